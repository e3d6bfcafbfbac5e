"""The streaming body: appends re-wrap only the tail yet match a full wrap; text stays literal."""

from __future__ import annotations

import random

from textual.app import App, ComposeResult

from genaicompare.app.widgets.stream_view import StreamView, wrap_rows
from genaicompare.core.sanitize import for_display

MARKUP = "[@click=app.simulate_key('u')]press[/] [link=file:///etc/passwd]x[/link] stray [/] [b]"


class ViewApp(App[None]):
    def compose(self) -> ComposeResult:
        yield StreamView()


def full_rows(view: StreamView, width: int) -> list[tuple[int, int, int]]:
    return [
        (index, a, b)
        for index, line in enumerate(view.text.split("\n"))
        for a, b in wrap_rows(line, 0, width)
    ]


def shown(view: StreamView) -> list[str]:
    return [
        "".join(segment.text for segment in view.render_line(y)).rstrip()
        for y in range(view.size.height)
    ]


def test_wrap_rows_fits_width_and_keeps_every_character() -> None:
    line = "short words then a verylongwordthatcannotfitanywhere 漢字漢字漢字漢字 end  "
    for width in (2, 3, 7, 12, 40):
        rows = wrap_rows(line, 0, width)
        assert "".join(line[a:b] for a, b in rows) == line
        for a, b in rows:
            assert sum(2 if "一" <= c <= "鿿" else 1 for c in line[a:b].rstrip()) <= width


async def test_appends_in_random_pieces_wrap_like_the_whole_text() -> None:
    rng = random.Random(7)
    words = ["a", "bb", "word", "longerword", "x" * 50, "漢字", "\n", "\n\n", " ", "end."]
    text = " ".join(rng.choice(words) for _ in range(400))
    app = ViewApp()
    async with app.run_test(size=(40, 12)) as pilot:
        view = app.query_one(StreamView)
        pos = 0
        while pos < len(text):
            step = rng.randint(1, 30)
            view.append(text[pos : pos + step])
            pos += step
        await pilot.pause()
        assert view.text == text
        width = view.scrollable_content_region.width
        assert view._rows == full_rows(view, width)
        # Following the stream: the last row is on screen.
        last = text.rstrip().split("\n")[-1].split()[-1]
        assert any(last in row for row in shown(view))
        await pilot.resize_terminal(25, 12)
        await pilot.pause()
        assert view._rows == full_rows(view, view.scrollable_content_region.width)


async def test_markup_in_streamed_text_is_shown_literally() -> None:
    app = ViewApp()
    async with app.run_test(size=(200, 5)) as pilot:
        view = app.query_one(StreamView)
        view.append(for_display(MARKUP[:20]))
        view.append(for_display(MARKUP[20:]))
        await pilot.pause()
        assert shown(view)[0] == MARKUP
        for segment in view.render_line(0):
            assert segment.style is None or not segment.style.link
            assert "@click" not in (segment.style.meta if segment.style else {})
