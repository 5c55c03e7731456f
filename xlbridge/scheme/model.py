"""The scheme format (方案): one pydantic model per kind of rule in RULES.md.

A scheme is a versioned document. Its parts form a tree of weighted components; each leaf
scores its inputs by one *method* (direct score, completion ratio, rate, rating, grade of a
sub-assessment, rank within the group, deductions from a full score). Bonuses and deductions
with their caps sit beside the parts, conditions (vetoes, gates, forced grades, "no grade")
beside the tiers, and quotas, payouts and period aggregation complete it.

The field names and descriptions here *are* the documentation: they produce the JSON Schema
that editors validate scheme files against (``xlbridge schemes schema``), and pydantic's error
paths (``tiers.1.at_least``) are what a scheme author reads when a file is wrong. Checks that
need the whole scheme (do weights add up, do tiers overlap, does a quota name a known tier)
live in :mod:`xlbridge.scheme.validate`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from xlbridge.arith import RoundingMode
from xlbridge.i18n import N_, t
from xlbridge.scheme.types import (
    MAX_COUNT,
    MAX_VERSION,
    Amount,
    BoundValue,
    Expr,
    Identifier,
    SchemeId,
    Share,
    Weight,
)


class _Model(BaseModel):
    # Unknown keys are errors: a misspelt `at_lest:` must not silently drop a boundary.
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class _Documented(_Model):
    source: str | None = Field(
        None, description="Where in the written scheme this rule comes from, e.g. '002:530'.")
    note: str | None = Field(
        None, description="A remark for readers: how an ambiguous sentence was read, and why.")


# --------------------------------------------------------------------------- rounding


class Rounding(_Model):
    """How one step rounds: digits after the point and the mode (default 四舍五入)."""

    digits: int = Field(..., ge=-6, le=10, description="places after the point (may be < 0)")
    mode: RoundingMode = Field(RoundingMode.half_up,
                               description="half_up = 四舍五入, like Excel's ROUND")


class RoundingPolicy(_Model):
    """Where results are rounded. Tiers are looked up on the *rounded* total (RULES §8)."""

    parts: Rounding | None = Field(
        None, description="round every part's score (default: parts stay exact)")
    total: Rounding = Field(Rounding(digits=2), description="round the total (default 2)")
    payout: Rounding = Field(Rounding(digits=2), description="round payouts (default 2, 分)")


# --------------------------------------------------------------------------- inputs


InputType = Literal["number", "count", "bool", "label", "text"]


class InputField(_Documented):
    """A fact about the assessed unit or person that rules read (leave days, category, veto…).

    Parts declare their own inputs; these are the extra ones conditions and groups use.
    """

    id: Identifier
    label: str = Field(..., description="the column header a clerk sees, e.g. 病事假天数")
    type: InputType = Field(
        "number", description="number, count (whole ≥ 0), bool (是/否), label (one of "
                              "`labels`), text (free text such as a category)")
    labels: list[str] | None = Field(None, description="allowed values of a label input")
    min: Amount | None = None
    max: Amount | None = None
    blank: Literal["error", "zero", "false", "empty"] = Field(
        "error", description="what an empty cell means: an error (default), 0, 否, or ''")


# --------------------------------------------------------------------------- periods


class Period(_Model):
    """One assessment period inside a part, e.g. 中期 50% / 年终 50% (002:536)."""

    id: Identifier
    label: str
    weight: Weight


# --------------------------------------------------------------------------- items


class CapShare(_Model):
    """Cap as a share of a part's points: '最多可加该项工作分值的30%' (002:229)."""

    part: Identifier = Field(..., description="id of the part whose points set the cap")
    share: Share


class Growth(_Model):
    """Growth steps: '每增长十个百分点奖0.5分' (002:170). The input is the growth in %."""

    step: Amount = Field(..., gt=0, description="percentage points per step (10 = ten points)")
    per_step: Amount = Field(..., description="points per full step")
    decline: bool = Field(False, description="count steps of decline instead (每减少十个百分点, "
                                             "002:178): a negative growth figure")


class Escalation(_Model):
    """Escalation, 整改不到位的每起加倍扣分 (002:176): unrectified occurrences count ×factor."""

    factor: Amount = Field(..., gt=1)
    label: str = Field("整改不到位", description="what the extra count is called")


class Item(_Documented):
    """One bonus or deduction rule: per occurrence, per level, growth steps or direct points.

    Used for scheme-level bonuses (加分) and deductions (扣分), and for the items of a
    deduction-based part (减分制). Inputs a clerk fills in, by ``input``:

    * ``count`` (default): number of occurrences, one column per level if ``levels`` is given;
    * ``list``: one text cell listing achievements, ``省级;市级,县级`` — entries separated by
      ``;``, levels of the *same* achievement by ``,`` (with ``highest_only`` the best counts);
    * ``points``: the points themselves (e.g. 差分 of 1–5 per case, 002:239);
    * ``growth``: the growth in percent, scored by ``growth`` steps.
    """

    id: Identifier
    title: str
    amount: Amount | None = Field(None, description="points per occurrence")
    levels: dict[str, Amount] | None = Field(
        None, description="points per level, e.g. {国家级: 5, 省级: 3, 市级: 2, 本局: 1}")
    input: Literal["count", "list", "points", "growth"] = "count"
    highest_only: bool = Field(
        False, description="the same achievement at several levels counts once, at its "
                           "highest level (同一项工作取最高分值)")
    cap: Amount | None = Field(None, ge=0, description="at most this many points from this item")
    cap_share: CapShare | None = None
    growth: Growth | None = None
    escalation: Escalation | None = None
    knockout: Amount | None = Field(
        None, gt=0, description="in a deduction-based part: this many occurrences or more "
                                "and the part scores its floor (e.g. 10 lates → 0, 004:497)")
    min: Amount | None = Field(None, description="least allowed value of a `points` input")
    max: Amount | None = Field(None, description="largest allowed value of a `points` input")
    when: Expr | None = Field(None, description="the item counts only when this holds")
    evidence: bool = Field(
        False, description="needs a document reference (书面依据); without one it is dropped")
    unit: str = Field("次", description="what is counted: 次, 篇, 半天…")
    reads: Identifier | None = Field(
        None, description="read the column of this other item instead of a column of its "
                          "own (one 增长% column feeding a bonus and a decline deduction)")

    @model_validator(mode="after")
    def _one_way_to_score(self) -> Item:
        if self.input == "growth":
            if self.growth is None:
                raise ValueError(t("增长项需要 `growth`（含 step 和 per_step）"))
        elif self.input == "points":
            if self.amount is not None or self.levels is not None:
                raise ValueError(t("`points` 项的分数来自输入；请删去 `amount`/`levels`"))
        elif (self.amount is None) == (self.levels is None):
            raise ValueError(t("`amount`（每次分值）和 `levels` 应写且只写一个"))
        if self.input == "list" and self.levels is None:
            raise ValueError(t("`list` 项需要 `levels` 才能读取各条记录"))
        return self


class Category(_Documented):
    """A group of items sharing a cap: '科室受奖(封顶5分)' (004:247)."""

    id: Identifier
    title: str
    cap: Amount | None = Field(None, ge=0)
    items: list[Item]


class Adjustments(_Documented):
    """Bonuses or deductions: items, categories with their own caps, and an overall cap."""

    title: str | None = None
    cap: Amount | None = Field(None, ge=0, description="overall cap (累计不超过); none = uncapped")
    items: list[Item] = Field(default_factory=list)
    categories: list[Category] = Field(default_factory=list)


# --------------------------------------------------------------------------- parts


class GiveTo(_Model):
    """When a part does not apply, its points go to these sibling parts (004:497)."""

    give_to: list[Identifier] = Field(..., min_length=1)


NotApplicable = Literal["rescale", "zero"] | GiveTo


class _PartBase(_Documented):
    id: Identifier
    title: str
    points: Amount | None = Field(
        None, ge=0, description="points this part contributes at full marks (分值)")
    weight: Weight | None = Field(
        None, description="or: share of the parent's points (权重), 0% to 100%, e.g. 80%")
    scale: Amount | None = Field(
        None, gt=0, description="the scale its inputs are scored on (e.g. 100 for a 百分制 "
                                "sub-score weighted 80%); default = points")
    periods: list[Period] | Identifier | None = Field(
        None, description="period weighting, inline or the id of a `period_sets` entry; each "
                          "period gets its own inputs")
    applies_when: Expr | None = Field(
        None, description="the part applies only when this holds (else see not_applicable)")
    not_applicable: NotApplicable = Field(
        "rescale", description="rescale = siblings share its points in proportion; "
                               "zero = it scores 0; give_to = named siblings get its points")
    round: Rounding | None = None


class DirectPart(_PartBase):
    """The score is entered (领导评分, 考核组打分), on 0…scale."""

    method: Literal["direct"]
    min: Amount | None = Field(None, description="lowest allowed input (default 0)")


class RatioPart(_PartBase):
    """Completion against a target: full at or above, pro rata below (002:530)."""

    method: Literal["ratio"]
    target: Amount | None = Field(
        None, gt=0, description="a fixed target; without it each record gives its own target")
    cap_at_full: bool = Field(True, description="at or above target scores full points")


class Allowance(_Model):
    """Occurrences up to a share of the base that are excused (允许多次派遣 3%, 003:213)."""

    label: str
    share: Share


class RatePart(_PartBase):
    """A rate, numerator ÷ denominator, e.g. 问题及时解决率 (003:207)."""

    method: Literal["rate"]
    numerator: str = Field("numerator", description="label of the numerator input")
    denominator: str = Field("denominator", description="label of the denominator input")
    allowance: Allowance | None = None
    zero_denominator: Literal["error", "full"] = Field(
        "error", description="a denominator of 0 (nothing to resolve, no survey): an error "
                             "to fix, or full marks — declared, never silent")


class RatingPart(_PartBase):
    """A qualitative rating mapped to a share: 好 100% / 中 80% / 差 60% (002:160).

    With ``votes: true`` each label gets a count column and the part scores the
    vote-weighted share (测评票数).
    """

    method: Literal["rating"]
    values: dict[str, Share] = Field(..., min_length=1)
    votes: bool = False


class GradePart(_PartBase):
    """A sub-assessment's grade mapped to points: 优秀 → 10, 良好 → 8 … (002:676)."""

    method: Literal["grade"]
    values: dict[str, Amount] = Field(..., min_length=1,
                                      description="points on the part's scale per grade")


class RankBand(_Model):
    """Top `top` of the group scores `score` (on the part's scale); the last band has none."""

    top: Share | None = Field(None, description="cumulative share from the top, e.g. 25%")
    score: Amount


class RankPart(_PartBase):
    """Rank within the group mapped to a score: top 25% → 90, 25–55% → 80, rest 70 (004:497).

    The input is the raw result (e.g. 测评得分 or votes); ties share the better rank.
    """

    method: Literal["rank"]
    bands: list[RankBand] = Field(..., min_length=2)
    band_rounding: Literal["half_up", "floor", "ceiling"] = Field(
        ..., description="how 'top 25% of 10 people' becomes a count of people")
    higher_is_better: bool = True


class DeductionPart(_PartBase):
    """减分制: start at full marks and subtract per occurrence; 扣完为止 at `floor` (002:36)."""

    method: Literal["deduction"]
    items: list[Item] = Field(..., min_length=1)
    floor: Amount = Field(Decimal(0), description="the part never scores below this")
    cap: Amount | None = Field(None, ge=0, description="at most this much deducted in total")


class CompositePart(_PartBase):
    """A part made of parts (level-1 indicator of level-2 indicators), nested to any depth.

    The children's points add up to the composite's scale; bonuses/deductions inside it
    are added before it is weighted into its parent (梅岭 奖惩附加分, 004:497).
    """

    method: Literal["composite"] = "composite"
    parts: list[Part] = Field(..., min_length=1)
    bonuses: Adjustments | None = None
    deductions: Adjustments | None = None


def _part_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        method = value.get("method")
        if method is None and "parts" in value:
            return "composite"
        return method
    return getattr(value, "method", None)


Part = Annotated[
    Annotated[DirectPart, Tag("direct")]
    | Annotated[RatioPart, Tag("ratio")]
    | Annotated[RatePart, Tag("rate")]
    | Annotated[RatingPart, Tag("rating")]
    | Annotated[GradePart, Tag("grade")]
    | Annotated[RankPart, Tag("rank")]
    | Annotated[DeductionPart, Tag("deduction")]
    | Annotated[CompositePart, Tag("composite")],
    Discriminator(_part_kind, custom_error_type="unknown_method",
                  # translated where it is shown (scheme.load)
                  custom_error_message=N_("`method` 应为 direct、ratio、rate、rating、grade、"
                                          "rank、deduction 之一，或者写 `parts` 作为组合部分")),
]
CompositePart.model_rebuild()

PART_TYPES = (DirectPart, RatioPart, RatePart, RatingPart, GradePart, RankPart, DeductionPart,
              CompositePart)


# --------------------------------------------------------------------------- grades


class Tier(_Documented):
    """A grade tier (等次) with explicit bounds: at_least/above (≥/>), at_most/below (≤/<).

    Bounds are points (``90``) or shares of max_score (``90%``, 002:674). The score is rounded
    first (``rounding.total``), then compared.
    """

    label: str
    at_least: BoundValue | None = Field(None, description="score ≥ this (含)")
    above: BoundValue | None = Field(None, description="score > this (不含)")
    at_most: BoundValue | None = Field(None, description="score ≤ this (含)")
    below: BoundValue | None = Field(None, description="score < this (不含)")
    requires: list[Expr] = Field(
        default_factory=list, description="gates: every condition must hold for this tier "
                                          "(优秀须同时符合…, 002:249); otherwise the next tier")

    @model_validator(mode="after")
    def _one_bound_per_side(self) -> Tier:
        if self.at_least is not None and self.above is not None:
            raise ValueError(t("`at_least` 和 `above` 只能写一个"))
        if self.at_most is not None and self.below is not None:
            raise ValueError(t("`at_most` 和 `below` 只能写一个"))
        return self


class Outcome(_Model):
    """What a condition does: exactly one of these."""

    grade: str | None = Field(None, description="forced grade, e.g. 不称职 (004:507)")
    no_grade: bool = Field(False, description="不确定等次: a result distinct from the lowest grade")
    at_most: str | None = Field(None, description="veto/gate: no better than this tier")
    flag: str | None = Field(None, description="only report it (e.g. 取消评先资格)")

    @model_validator(mode="after")
    def _exactly_one(self) -> Outcome:
        chosen = [self.grade is not None, self.no_grade, self.at_most is not None,
                  self.flag is not None]
        if sum(chosen) != 1:
            raise ValueError(t("grade、no_grade、at_most、flag 应写且只写一个"))
        return self


class Condition(_Documented):
    """A veto (一票否决), gate, forced grade or "no grade" rule (RULES §5).

    Conditions are checked in order; the first one that decides the grade (``grade`` or
    ``no_grade``) wins and later deciding ones are reported as overridden; ``at_most`` caps
    and flags all apply.
    """

    id: Identifier
    title: str
    when: Expr
    then: Outcome
    veto: bool = Field(False, description="mark as 一票否决 in explanations")


class TieRule(_Model):
    """How a tie at a quota line is decided — declared, never row order (RULES §7)."""

    rule: Literal["all_in", "all_out", "keys"]
    keys: list[str] = Field(default_factory=list,
                            description="for `keys`: part or input ids compared in order, "
                                        "higher first")
    then: Literal["all_in", "all_out"] | None = Field(
        None, description="for `keys`: what happens if the keys tie too")

    @model_validator(mode="after")
    def _keys_need_fallback(self) -> TieRule:
        if self.rule == "keys" and (not self.keys or self.then is None):
            raise ValueError(t("规则 `keys` 需要 `keys: [...]` 和 `then: all_in|all_out`"))
        if self.rule != "keys" and (self.keys or self.then):
            raise ValueError(t("`keys`/`then` 只能与规则 `keys` 一起用"))
        return self


class QuotaLimit(_Model):
    """At most `share` (or `count`) of the group in this tier, filled from the top."""

    tier: str
    share: Share | None = None
    count: int | None = Field(None, ge=0, le=MAX_COUNT)

    @model_validator(mode="after")
    def _share_or_count(self) -> QuotaLimit:
        if (self.share is None) == (self.count is None):
            raise ValueError(t("`share` 和 `count` 应写且只写一个"))
        return self


class Quotas(_Documented):
    """Quotas per tier and group (名额/比例, RULES §7); over-quota records fall a tier."""

    group_by: list[Identifier] | None = Field(
        None, description="input ids that form the groups (default: the scheme's `groups`)")
    limits: list[QuotaLimit] = Field(..., min_length=1)
    rounding: Literal["half_up", "floor", "ceiling"] = Field(
        ..., description="how share × group size becomes a whole count (7 × 25% → 2 is "
                         "half_up, 002:568)")
    ties: TieRule
    base: Literal["all", "graded"] = Field(
        "all", description="group size counts every record (all) or only graded ones")


class RankRule(_Documented):
    """A consequence of rank: bottom 20% not recommended (004:303), top 5 rewarded (002:186)."""

    id: Identifier
    title: str
    top: Share | Annotated[int, Field(ge=0, le=MAX_COUNT)] | None = Field(
        None, description="the best N or share of the group")
    bottom: Share | Annotated[int, Field(ge=0, le=MAX_COUNT)] | None = Field(
        None, description="the worst N or share of the group")
    when: Expr | None = Field(None, description="and only when this holds (e.g. total < 75)")
    eligible: Expr | None = Field(
        None, description="only records meeting this are ranked for the rule; the others "
                          "make room (a vetoed village does not take a top-5 place)")
    flag: str
    group_by: list[Identifier] | None = None
    rounding: Literal["half_up", "floor", "ceiling"] = "half_up"
    ties: Literal["all_in", "all_out"] = Field(
        "all_in", description="records tied across the cut-off: all flagged (shared rank, "
                              "like RANK.EQ) or none; either way the tie is reported")

    @model_validator(mode="after")
    def _top_or_bottom(self) -> RankRule:
        if (self.top is None) == (self.bottom is None):
            raise ValueError(t("`top` 和 `bottom` 应写且只写一个"))
        return self


# --------------------------------------------------------------------------- payout


class ProRata(_Model):
    """Paid for the months served: '按在职月份享受' (004:503)."""

    months: Identifier = Field(..., description="the input holding months served")
    of: int = Field(..., gt=0, le=MAX_COUNT, description="months in the period (3 for a "
                                                          "quarter)")


class PayoutRule(_Documented):
    """Changes the payout when a condition holds: pay at another grade, pro rata, or nothing."""

    id: Identifier
    title: str
    when: Expr
    grades: list[str] | None = Field(None, description="only for these grades")
    pay_as: str | None = Field(
        None, description="pay the amount of this grade instead; 'none' forfeits it")
    pro_rata: ProRata | None = None


class RankPrize(_Model):
    rank: int = Field(..., ge=1, le=MAX_COUNT)
    amount: Amount
    title: str | None = None


class RankPrizes(_Documented):
    """Prizes by rank within a group: first 10000, second two 6000 each (002:123)."""

    title: str = "名次奖"
    group_by: list[Identifier] | None = None
    prizes: list[RankPrize] = Field(..., min_length=1)
    min_grade: str | None = Field(None, description="only records at this grade or better")


class Payout(_Documented):
    """Payout by grade: a fixed amount, or months of base salary (RULES §9)."""

    amounts: dict[str, Amount] | None = Field(None, description="元 per grade, e.g. 优秀: 2100")
    base_months: dict[str, Amount] | None = Field(
        None, description="months of base salary per grade, e.g. 优秀: 1, 良好: 0.5")
    base: Identifier | None = Field(None, description="input holding the monthly base salary")
    rules: list[PayoutRule] = Field(default_factory=list)
    rank_prizes: RankPrizes | None = None
    unit: str = "元"

    @model_validator(mode="after")
    def _one_basis(self) -> Payout:
        if self.amounts is not None and self.base_months is not None:
            raise ValueError(t("`amounts` 和 `base_months` 只能写一个"))
        if self.base_months is not None and self.base is None:
            raise ValueError(t("`base_months` 需要 `base`：存放基本工资的输入"))
        return self


class Derived(_Documented):
    """A figure derived from a result: head charged 60% of the deduction (002:239)."""

    id: Identifier
    title: str
    of: Literal["deductions", "bonuses", "payout", "total"]
    share: Share


# --------------------------------------------------------------------------- periods


class AggregationRule(_Documented):
    """``when`` over the period grades (``count('优秀') >= 3``) → ``grade``."""

    when: Expr
    grade: str
    within_quota: bool = Field(False, description="only within the aggregation quota")


class AggregationQuota(_Model):
    tier: str
    share: Share | None = None
    count: int | None = Field(None, ge=0, le=MAX_COUNT)
    rounding: Literal["half_up", "floor", "ceiling"]
    ties: TieRule
    fallback: str = Field(..., description="grade of those eligible but over the quota")


class Aggregation(_Documented):
    """Annual grade from period grades (RULES §10, 004:527)."""

    title: str
    periods: list[Identifier] = Field(..., min_length=2)
    grades: list[str] = Field(..., min_length=2, description="annual grades, best first")
    rules: list[AggregationRule]
    otherwise: str
    quota: AggregationQuota | None = None
    rank_by: Literal["sum_total", "count_top"] = Field(
        "sum_total", description="order for the quota: sum of period totals, or number of "
                                 "top grades then sum of totals")


# --------------------------------------------------------------------------- scheme


class Scheme(_Documented):
    """A performance-appraisal scheme (考核方案), one version of it."""

    id: SchemeId
    version: int = Field(..., ge=1, le=MAX_VERSION)
    title: str = Field(..., description="the scheme's Chinese title")
    unit: str = Field(..., description="unit of assessment: 部门, 乡镇, 村, 科室, 个人…")
    period: Literal["month", "quarter", "half_year", "year"] = "year"
    max_score: Amount = Field(..., gt=0, description="full marks (满分), the sum of the parts")
    bonus_headroom: Amount | None = Field(
        None, ge=0,
        description="加分空间: how many points the parts themselves may score above max_score, "
                    "when the written scheme lets them (超额完成按比例计分 — a `ratio` part "
                    "with cap_at_full: false, a rating above 100%). Without it a scheme whose "
                    "parts can reach more than max_score is invalid: weights or values that "
                    "add up to more than full marks are a mistake until declared. Bonus points "
                    "(`bonuses`, a composite's `bonuses`) are declared by being bonuses and "
                    "need no headroom; tiers must cover every total either way.")
    description: str | None = None
    groups: list[Identifier] = Field(
        default_factory=list, description="input ids that split the population into groups "
                                          "(科级/中层/一般, 一档/二档) for quotas and ranks")
    inputs: list[InputField] = Field(default_factory=list)
    period_sets: dict[str, list[Period]] = Field(default_factory=dict)
    parts: list[Part] = Field(..., min_length=1)
    bonuses: Adjustments | None = None
    deductions: Adjustments | None = None
    conditions: list[Condition] = Field(default_factory=list)
    tiers: list[Tier] = Field(default_factory=list, description="best first")
    quotas: Quotas | None = None
    rank_rules: list[RankRule] = Field(default_factory=list)
    payout: Payout | None = None
    derived: list[Derived] = Field(default_factory=list)
    rounding: RoundingPolicy = Field(default_factory=RoundingPolicy)
    blank_counts: Literal["error", "zero"] = Field(
        "error", description="what an empty occurrence-count cell means: an error, or 0 "
                             "(most templates leave counts empty when nothing happened)")
    aggregation: Aggregation | None = None

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"
