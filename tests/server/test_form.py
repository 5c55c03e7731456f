"""The editor's form without a browser: fields generated from the scheme model, posted values
written back into the document, row actions, and messages placed beside their fields."""

from __future__ import annotations

import json

from srvtest import SHIPPED

from server import form
from server.editor import draft_document
from xlbridge.i18n import use_language
from xlbridge.scheme.issues import Issue
from xlbridge.scheme.load import load_scheme_file, scheme_from_data
from xlbridge.scheme.validate import validate


def doc(name: str = "meiling-street-quarterly") -> dict:
    return draft_document(load_scheme_file(SHIPPED / f"{name}.yaml").scheme)


def fields(d: dict) -> dict[str, form.Field]:
    return {f.path: f for f in form.build(d).fields()}


def unchanged_post(d: dict) -> dict[str, list[str]]:
    """What a browser posts for the form as rendered, nothing edited."""
    out: dict[str, list[str]] = {}
    for f in form.build(d).fields():
        out[f.name] = ["0", *(["1"] if f.checked else [])] if f.kind == "bool" else [f.value]
        if f.kind in ("bound", "outcome"):
            out[f.operator_name] = [f.operator]
    return out


def test_fields_come_from_the_model():
    f = fields(doc())
    assert (f["parts[0].weight"].kind, f["parts[0].weight"].value) == ("share", "60%")
    assert f["parts[0].parts[0].points"].kind == "amount"
    assert f["parts[0].parts[0].parts[0].applies_when"].kind == "expr"
    assert f["conditions[0].veto"].kind == "bool"
    assert f["groups"].kind == "ids" and f["groups"].value == "category"
    # choices are the model's Literal values, named in Chinese, the default named
    period = f["period"]
    assert ("quarter", "季度") in period.choices and period.value == "quarter"
    blank = f["inputs[0].blank"]
    assert blank.value == "" and blank.default == "报错"
    # the help text is the catalogue's, in the page's language (Chinese by default; it was
    # the model's English description before the pages spoke Chinese: changed deliberately)
    assert f["parts[0].weight"].help == "或：占上一级分值的比例（权重），0% 到 100%，如 80%"
    with use_language("en"):
        english = fields(doc())
    assert "share of the parent's points" in english["parts[0].weight"].help
    assert english["parts[0].weight"].label == "Weight" and english["period"].label == "Period"
    assert ("quarter", "quarterly") in english["period"].choices
    # a tier's bound: which side key the scheme uses, and its value
    low, high = f["tiers[1]~low"], f["tiers[1]~high"]
    assert (low.operator, low.value, high.operator, high.value) == ("at_least", "75",
                                                                    "below", "90")
    assert "tiers[1].above" in low.covers
    assert f["quotas.ties.rule"].value == "keys"


def test_posting_the_form_unchanged_keeps_the_document():
    d = doc()
    assert form.apply(d, unchanged_post(d)) == d
    bailian = doc("bailian-township")
    assert form.apply(bailian, unchanged_post(bailian)) == bailian


def test_posted_values_are_written_by_kind():
    d = doc()
    posted = unchanged_post(d)
    posted["f:parts[0].weight"] = ["70%"]
    posted["f:max_score"] = ["100.5"]
    posted["o:tiers[0]~low"] = ["above"]  # ≥90 becomes >90
    posted["f:tiers[3]~high"] = [""]  # the lowest tier loses its upper bound
    posted["f:conditions[0].veto"] = ["0", "1"]
    posted["o:conditions[0].then"] = ["no_grade"]
    posted["f:tiers[0].requires"] = ["total >= 90\n\n  not warned  \n"]
    posted["f:groups"] = ["category，has_office"]
    posted["f:parts[1].scale"] = [""]
    out = form.apply(d, posted)
    assert out["parts"][0]["weight"] == "70%" and out["max_score"] == 100.5
    assert "at_least" not in out["tiers"][0] and out["tiers"][0]["above"] == 90
    assert "below" not in out["tiers"][3]
    assert out["conditions"][0]["veto"] is True
    assert out["conditions"][0]["then"] == {"no_grade": True}
    assert out["tiers"][0]["requires"] == ["total >= 90", "not warned"]
    assert out["groups"] == ["category", "has_office"]
    assert "scale" not in out["parts"][1]
    assert d["parts"][0]["weight"] == "60%"  # the original is untouched
    # what the form cannot parse reaches the validator as written, which says why
    posted = unchanged_post(d)
    posted["f:parts[0].weight"] = ["70"]
    bad = form.apply(d, posted)
    assert bad["parts"][0]["weight"] == "70"
    # a name the form did not render changes nothing
    assert form.apply(d, {"f:parts[99].weight": ["1%"], "f:__class__": ["x"]}) == d


def test_row_actions():
    d = doc()
    added = form.act(d, "add:tiers")
    assert len(added["tiers"]) == 5 and added["tiers"][-1] == {"label": "新等次"}
    moved = form.act(d, "up:tiers[1]")
    assert [t["label"] for t in moved["tiers"][:2]] == ["良好", "优秀"]
    assert len(form.act(d, "del:conditions[0]")["conditions"]) == len(d["conditions"]) - 1
    child = form.act(d, "add:parts[0].parts")
    assert child["parts"][0]["parts"][-1]["id"] == "part1"
    assert "quotas" not in form.act(d, "del:quotas")
    bailian = doc("bailian-township")
    assert "quotas" not in bailian
    with_quota = form.act(bailian, "add:quotas")
    assert with_quota["quotas"]["limits"][0]["tier"] == bailian["tiers"][0]["label"]
    assert form.act(d, "nonsense") == d and form.act(d, "del:") == d


def test_messages_land_beside_the_field_they_name():
    d = doc()
    d["parts"][0]["weight"] = "70%"
    d["tiers"][1]["at_least"] = 80
    scheme = scheme_from_data(d)
    issues = validate(scheme).issues
    built = form.build(d)
    placed = form.place(built, [*issues, Issue("warning", "rank_rules[0].when", "x")])
    assert any("110%" in i.message for i in placed["parts"])
    # a tier overlap names tiers[2]; the bound key names the bound field
    assert "tiers[2]" in placed or "tiers" in placed
    bound = form.place(built, [Issue("error", "tiers[1].at_least", "m")])
    assert list(bound) == ["tiers[1]~low"]
    # a path the form does not show goes to its nearest enclosing slot, or the summary
    assert list(form.place(built, [Issue("error", "rank_rules[0].when", "m")])) == [""]
    assert list(form.place(built, [Issue("error", "parts[1].bands[0].score", "m")])) == \
        ["parts[1]"]


def test_every_shipped_scheme_round_trips_through_the_form():
    for path in sorted(SHIPPED.glob("*.yaml")):
        d = draft_document(load_scheme_file(path).scheme)
        out = form.apply(d, unchanged_post(d))
        assert json.dumps(out, sort_keys=True) == json.dumps(d, sort_keys=True), path.name
        assert scheme_from_data(out) == scheme_from_data(d)
