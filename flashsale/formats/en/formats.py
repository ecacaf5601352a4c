"""Dates and times as the back office and the site show them: one 24-hour format, year first.

(Django's English default is "Nov. 30, 2026, 6:53 a.m."; the live page and the mails use the same
format as this, so an operator reads one way of writing a time everywhere.) Input formats stay Django's.
"""

DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "Y-m-d H:i:s"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
