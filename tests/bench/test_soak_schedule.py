"""The soak's fault schedule is a pure function of (seed, minutes): a failing run can be replayed."""

from bench.soak.schedule import FAULT_KINDS, GATEWAY_DOWN, build_schedule


def test_the_same_seed_gives_the_same_schedule():
    assert build_schedule(21, 30) == build_schedule(21, 30)
    assert build_schedule(7, 2) == build_schedule(7, 2)


def test_another_seed_gives_another_schedule():
    assert build_schedule(21, 30) != build_schedule(22, 30)
    assert [f.kind for f in build_schedule(1, 2)] != [f.kind for f in build_schedule(2, 2)]


def test_every_kind_of_fault_is_in_a_30_minute_run_one_every_1_to_3_minutes():
    for seed in range(50):
        schedule = build_schedule(seed, 30)
        assert set(FAULT_KINDS) <= {f.kind for f in schedule}, seed
        gaps = [b.at - a.at for a, b in zip(schedule, schedule[1:], strict=False)]
        assert all(59.9 <= gap <= 180.1 for gap in gaps), (seed, gaps)
        assert schedule[-1].at <= 30 * 60 - 60
        assert all(f.params["seconds"] == 30 for f in schedule if f.kind == GATEWAY_DOWN)


def test_a_2_minute_run_is_compressed_to_a_fault_every_15_to_25_seconds():
    schedule = build_schedule(3, 2)
    gaps = [b.at - a.at for a, b in zip(schedule, schedule[1:], strict=False)]
    assert len(schedule) >= 4 and all(14.9 <= gap <= 25.1 for gap in gaps), gaps
    assert len({f.kind for f in schedule}) == len(schedule)  # dealt from a deck: no kind twice before all once
