"""Pure pieces: the term pipeline, snippets, Markdown sanitising and the template engine."""

from __future__ import annotations

import pytest

from relaydesk.kb import macros, render, text


def test_english_forms_meet_at_one_stem() -> None:
    for group in (["stutter", "stutters", "stuttering", "stuttered"], ["freeze", "freezes", "freezing"], ["drop", "dropped", "dropping"], ["join", "joins", "joined", "joining"]):
        assert len({text.stem(w) for w in group}) == 1, group
    assert text.stem("status") == "status" and text.stem("ios") == "ios"


def test_mixed_query_is_segmented_and_normalised() -> None:
    terms = text.query_terms("Android SDK 卡顿 首帧慢")
    assert terms[:3] == ["android", "sdk", "卡顿"]
    assert "首帧" in terms and "慢" not in text.ZH_STOP
    # Stop words on both sides are dropped; duplicates collapse in queries.
    assert text.query_terms("the 的 了 how") == []
    assert text.query_terms("echo echo ECHO") == ["echo"]


def test_query_terms_are_bounded() -> None:
    assert len(text.query_terms(" ".join(f"word{i}" for i in range(500)))) == text.MAX_QUERY_TERMS


def test_snippet_marks_matches_and_escapes_everything_else() -> None:
    body = "Intro. <script>alert(1)</script> the Android SDK stutters when 首帧慢 & 卡顿 happen."
    out = text.snippet(body, set(text.query_terms("android 卡顿 stutter")))
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "<mark>Android</mark>" in out and "<mark>卡顿</mark>" in out and "<mark>stutters</mark>" in out
    assert "&amp;" in out
    # Only <mark> tags are produced.
    assert out.replace("<mark>", "").replace("</mark>", "").count("<") == 0


def test_snippet_centres_on_the_matches_in_a_long_text() -> None:
    body = "filler words here. " * 100 + "the echo cancellation switch " + "more filler. " * 100
    out = text.snippet(body, {"echo"}, width=80)
    assert out.startswith("…") and out.endswith("…") and "<mark>echo</mark>" in out
    assert len(out) < 140


def test_typo_correction_is_close_and_english_only() -> None:
    vocab = ["stutter", "start", "android", "echo", "卡顿"]
    assert text.correct("stuter", vocab) == "stutter"
    assert text.correct("andriod", vocab) == "android"
    assert text.correct("zzzzzz", vocab) is None
    assert text.correct("卡屯", vocab) is None
    assert text.edit_distance_at_most("kitten", "sitting", 3) and not text.edit_distance_at_most("kitten", "sitting", 2)


@pytest.mark.parametrize(
    "markdown, forbidden",
    [
        ("<script>alert(1)</script>", "<script"),
        ("<img src=/kb/images/1/a.png onerror=alert(1)>", "onerror"),
        ("[click](javascript:alert(1))", 'href="javascript'),
        ("<a href='javascript:alert(1)'>x</a>", "javascript:"),
        ("<a href='JaVaScRiPt:alert(1)'>x</a>", "alert"),
        ("[x](data:text/html;base64,PHNjcmlwdD4=)", 'href="data'),
        ("<iframe src='https://evil.example/'></iframe>", "<iframe"),
        ("<iframe src='https://www.youtube.com/embed/x'></iframe>", "<iframe"),
        ("<div style='background:url(javascript:alert(1))'>x</div>", "style"),
        ("![t](https://tracker.example/pixel.png)", "tracker.example"),
        ("<svg onload=alert(1)>", "<svg"),
        ("<p onclick='steal()'>hi</p>", "onclick"),
        ("<object data='x.swf'></object>", "<object"),
        ("<form action='https://evil'><input></form>", "<form"),
    ],
)
def test_malicious_markdown_is_sanitised(markdown: str, forbidden: str) -> None:
    html = render.render("Intro\n\n" + markdown + "\n\nOutro")
    assert forbidden.lower() not in html.lower()
    assert "Outro" in html


def test_markdown_keeps_what_articles_need() -> None:
    md = "# Title\n\n**bold** `code` [docs](https://docs.example/x)\n\n![chart](/kb/images/4/chart.png)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    html = render.render(md)
    assert "<h1>Title</h1>" in html and "<strong>bold</strong>" in html and "<table>" in html
    assert 'src="/kb/images/4/chart.png"' in html
    assert 'href="https://docs.example/x"' in html and "noopener" in html
    assert render.video_links("[v](https://www.youtube.com/watch?v=1) [d](https://docs.example)") == ["https://www.youtube.com/watch?v=1"]
    assert render.plain_text("# T\n\n<b>x</b> &amp; y") == "T x & y"


def test_template_renders_only_allowed_placeholders() -> None:
    body = "Hi {{ customer.name }}, region {{ticket.region}}; see {{  incident.url }}."
    out = macros.render(body, {"customer.name": "Alice", "ticket.region": "Singapore", "incident.url": "https://status/1"})
    assert out == "Hi Alice, region Singapore; see https://status/1."
    assert macros.placeholders(body) == ["customer.name", "ticket.region", "incident.url"]


@pytest.mark.parametrize(
    "body, name",
    [
        ("{{ customer.password }}", "customer.password"),
        ("{{ ticket.organisation.plan.price }}", "ticket.organisation.plan.price"),
        ("{{ customer.__class__ }}", "customer.__class__"),
        ("{{ customer.name|upper }}", "customer.name|upper"),
        ("{{ settings.SECRET_KEY }}", "settings.SECRET_KEY"),
        ("{{ ''.__class__.__mro__ }}", "''.__class__.__mro__"),
    ],
)
def test_unknown_placeholder_is_named(body: str, name: str) -> None:
    with pytest.raises(macros.TemplateError) as err:
        macros.render(body, {"customer.name": "x"})
    assert err.value.placeholder == name and name in err.value.message


def test_template_sandbox_refuses_code_and_does_not_recurse() -> None:
    for body in ("{% load x %}", "{% for a in b %}{% endfor %}", "{{ unbalanced", "a }} b"):
        with pytest.raises(macros.TemplateError):
            macros.placeholders(body)
    # A value that looks like a placeholder (or template code) is inserted verbatim, once.
    out = macros.render("Hi {{ customer.name }}", {"customer.name": "{{ agent.name }} {% debug %}"})
    assert out == "Hi {{ agent.name }} {% debug %}"
    with pytest.raises(macros.TemplateError, match=r"incident\.url"):
        macros.render("See {{ incident.url }}", {"incident.url": None})
