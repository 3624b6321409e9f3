"""Every table the course prints: numbers right-aligned under their header, text left-aligned."""
from lessons.text_table import text_table


def test_columns_align_numbers_right_and_text_left():
    rows = [{"class": "glass", "recall": 0.9333, "photos": 15}, {"class": "cardboard", "recall": None, "photos": 1204}]
    lines = text_table(rows, {"recall": ".1%", "photos": ","}).splitlines()
    assert lines == ["class      recall  photos",
                     "glass       93.3%      15",
                     "cardboard       -   1,204"]


def test_a_format_may_be_a_function_and_the_gap_a_setting():
    text = text_table([{"size": 2_738_296, "ok": True}], {"size": lambda b: f"{b / 1e6:.1f} MB"}, gap=1)
    assert text.splitlines() == ["  size ok", "2.7 MB True"]  # a number is right-aligned, a bool is text
