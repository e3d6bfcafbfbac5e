"""Bar charts with intervals: positions on the scale, hostile labels as literal text."""

from genaicompare.app.widgets.bars import bar_chart


def test_bars_and_intervals_sit_on_one_scale():
    chart = bar_chart(
        {
            "title": "thumbs-up rate",
            "unit": "%",
            "bars": [
                {"label": "old", "value": 50.0, "lower": 25.0, "upper": 75.0, "n": 12},
                {"label": "new", "value": 100.0, "lower": 80.0, "upper": 100.0, "n": 9},
                {"label": "none", "value": None, "lower": None, "upper": None, "n": 0},
            ],
        },
        width=41,
    ).plain.splitlines()
    assert chart[0] == "thumbs-up rate"
    old_bar, old_ci, new_bar, new_ci, none_bar = chart[1:6]
    prefix = len("none ")  # labels are padded to the longest
    assert old_bar[prefix:].startswith("█" * 21 + " ") and "[25.0, 75.0]  n=12" in old_bar
    ci = old_ci[prefix:]
    assert ci.index("├") == 10 and ci.index("┼") == 20 and ci.index("┤") == 30
    assert new_bar[prefix : prefix + 41] == "█" * 41
    # value == upper: the value mark sits on the upper bound
    assert new_ci[prefix:].index("├") == 32 and new_ci[prefix:].rstrip().endswith("┼")
    assert "no data (n=0)" in none_bar


def test_labels_are_text_not_markup():
    chart = bar_chart(
        {
            "title": "[b]x[/b]",
            "unit": "",
            "bars": [
                {
                    "label": "[@click=app.quit]m\x1b]52;c;eA==\x07",
                    "value": 1000.0,
                    "lower": 990.0,
                    "upper": 1010.0,
                    "n": 3,
                }
            ],
        },
    )
    assert chart.plain.startswith("[b]x[/b]")
    assert "[@click=app.quit]m" in chart.plain
    assert "\x1b" not in chart.plain and "]52;" not in chart.plain
    assert all(not span.style or "link" not in str(span.style) for span in chart.spans)


def test_bars_start_at_a_real_zero_or_say_where_they_start():
    latency = bar_chart(
        {
            "title": "latency p50",
            "unit": "ms",
            "zero": 0.0,
            "bars": [
                {"label": "a", "value": 100.0, "lower": 100.0, "upper": 200.0, "n": 5},
                {"label": "b", "value": 200.0, "lower": 200.0, "upper": 200.0, "n": 5},
            ],
        },
        width=41,
    ).plain.splitlines()
    # From zero: half the latency is half the bar (a scale from the minimum would make it 1 cell).
    assert latency[1][2:].startswith("█" * 21 + " ") and "bars start" not in "".join(latency)
    rating = bar_chart(
        {
            "title": "rating",
            "unit": "",
            "zero": None,
            "bars": [{"label": "a", "value": 1000.0, "lower": 950.0, "upper": 1050.0, "n": 9}],
        },
        width=41,
    ).plain.splitlines()
    assert rating[1].startswith("bars start at 945 (this measure has no zero)")


def test_bars_shrink_so_a_row_fits_the_width_given():
    chart = bar_chart(
        {
            "title": "t",
            "unit": "%",
            "bars": [{"label": "m" * 24, "value": 50.0, "lower": 40.0, "upper": 60.0, "n": 12}],
        },
        total=64,
    ).plain.splitlines()
    assert max(len(line) for line in chart) <= 64
