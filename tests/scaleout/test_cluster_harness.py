def test_three_masters_answer_and_own_all_slots(cluster_sale_redis):
    primaries = cluster_sale_redis.get_primaries()
    assert len(primaries) == 3
    owners = {cluster_sale_redis.nodes_manager.get_node_from_slot(slot).name for slot in (0, 8000, 16383)}
    assert len(owners) == 3
