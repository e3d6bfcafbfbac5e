"""Style control (issue 14 §5) against FastChat's own code on a shared fixture.

The FastChat functions below are copied from lm-sys/FastChat (Apache License 2.0):
``count_markdown_elements`` (fastchat/serve/monitor/add_markdown_info.py),
``construct_style_matrices`` + ``fit_mle_elo`` (fastchat/serve/monitor/elo_analysis.py, commit
05b9305, the first style control, fitted with scikit-learn) and ``preprocess_for_style`` +
``contextual_bt_loss_and_grad`` + ``fit_contextual_bt`` (fastchat/serve/monitor/rating_systems.py,
the current one), trimmed of progress bars and multiprocessing only. One fix is marked: the
original ``construct_style_matrices`` reads a global ``battles``; here it reads its argument.
"""

from __future__ import annotations

import math
import re
from functools import partial

import numpy as np
import pytest

from genaicompare.core.markdown_style import style_counts
from genaicompare.scoring.style import (
    MIN_STYLE_BATTLES,
    fit_contextual,
    longer_share,
    style_control,
    style_features,
)

pd = pytest.importorskip("pandas")

STYLE_CONTROL_ELEMENTS_V1 = [
    "sum_assistant_a_tokens",
    "header_count_a",
    "list_count_a",
    "bold_count_a",
    "sum_assistant_b_tokens",
    "header_count_b",
    "list_count_b",
    "bold_count_b",
]


# -- FastChat's code (Apache-2.0), see the module docstring -------------------------------------
def count_markdown_elements(markdown_text, suffix):  # type: ignore[no-untyped-def]
    counters = {
        f"header_count{suffix}": {
            "h1": len(re.findall(r"^#{1}\s", markdown_text, re.MULTILINE)),
            "h2": len(re.findall(r"^#{2}\s", markdown_text, re.MULTILINE)),
            "h3": len(re.findall(r"^#{3}\s", markdown_text, re.MULTILINE)),
            "h4": len(re.findall(r"^#{4}\s", markdown_text, re.MULTILINE)),
            "h5": len(re.findall(r"^#{5}\s", markdown_text, re.MULTILINE)),
            "h6": len(re.findall(r"^#{6}\s", markdown_text, re.MULTILINE)),
        },
        f"list_count{suffix}": {
            "ordered": len(re.findall(r"^\s*\d+\.\s", markdown_text, re.MULTILINE)),
            "unordered": len(re.findall(r"^\s*[-*+]\s", markdown_text, re.MULTILINE)),
        },
        f"bold_count{suffix}": {
            "**": len(re.findall(r"\*\*[^*\n]+\*\*", markdown_text)),
            "__": len(re.findall(r"__[^_\n]+__", markdown_text)),
        },
    }
    return counters


def construct_style_matrices(  # type: ignore[no-untyped-def]
    df,
    BASE=10,
    apply_ratio=[1, 1, 1, 1],  # noqa: B006
    style_elements=STYLE_CONTROL_ELEMENTS_V1,
    add_one=True,
):
    models = pd.concat([df["model_a"], df["model_b"]]).unique()  # fix: was the global `battles`
    models = pd.Series(np.arange(len(models)), index=models)

    # duplicate battles
    df = pd.concat([df, df], ignore_index=True)
    p = len(models.index)
    n = df.shape[0]
    assert len(style_elements) % 2 == 0
    k = int(len(style_elements) / 2)

    X = np.zeros([n, p + k])
    X[np.arange(n), models[df["model_a"]]] = +math.log(BASE)
    X[np.arange(n), models[df["model_b"]]] = -math.log(BASE)

    # creates turn each of the specified column in "conv_metadata" into a vector
    style_vector = np.array(
        [
            df.conv_metadata.map(
                lambda x: (
                    x[element]  # noqa: B023
                    if type(x[element]) is int  # noqa: B023
                    else sum(x[element].values())  # noqa: B023
                )
            ).tolist()
            for element in style_elements
        ]
    )

    style_diff = (style_vector[:k] - style_vector[k:]).astype(float)
    style_sum = (style_vector[:k] + style_vector[k:]).astype(float)

    if add_one:
        style_sum = style_sum + np.ones(style_diff.shape)

    apply_ratio = np.flatnonzero(apply_ratio)

    style_diff[apply_ratio] /= style_sum[apply_ratio]  # Apply ratio where necessary (length, etc)

    style_mean = np.mean(style_diff, axis=1)
    style_std = np.std(style_diff, axis=1)

    X[:, -k:] = ((style_diff - style_mean[:, np.newaxis]) / style_std[:, np.newaxis]).T

    # one A win => two A win
    Y = np.zeros(n)
    Y[df["winner"] == "model_a"] = 1.0

    # one tie => one A win + one B win
    # find tie + tie (both bad) index
    tie_idx = (df["winner"] == "tie") | (df["winner"] == "tie (bothbad)")
    tie_idx[len(tie_idx) // 2 :] = False
    Y[tie_idx] = 1.0

    return X, Y, models


def fit_mle_elo(X, Y, models, indices=None, SCALE=400, INIT_RATING=1000):  # type: ignore[no-untyped-def]
    from sklearn.linear_model import LogisticRegression

    p = len(models.index)

    lr = LogisticRegression(fit_intercept=False)
    if indices:
        lr.fit(X[indices], Y[indices])
    else:
        lr.fit(X, Y)

    elo_scores = SCALE * lr.coef_[0] + INIT_RATING
    # calibrate llama-13b to 800 if applicable
    if "mixtral-8x7b-instruct-v0.1" in models.index:
        elo_scores += 1114 - elo_scores[models["mixtral-8x7b-instruct-v0.1"]]
    return (
        pd.Series(elo_scores[:p], index=models.index).sort_values(ascending=False),
        lr.coef_[0][p:],
    )


def get_matchups_models(df):  # type: ignore[no-untyped-def]
    n_rows = len(df)
    model_indices, models = pd.factorize(pd.concat([df["model_a"], df["model_b"]]))
    matchups = np.column_stack([model_indices[:n_rows], model_indices[n_rows:]])
    return matchups, models.to_list()


def preprocess_for_elo(df):  # type: ignore[no-untyped-def]
    matchups, models = get_matchups_models(df)
    outcomes = np.full(len(df), 0.5)
    outcomes[df["winner"] == "model_a"] = 1.0
    outcomes[df["winner"] == "model_b"] = 0.0
    return matchups, outcomes, models


def preprocess_for_style(  # type: ignore[no-untyped-def]
    df,
    apply_ratio=[1, 1, 1, 1],  # noqa: B006
    style_elements=STYLE_CONTROL_ELEMENTS_V1,
    add_one=True,
):
    matchups, outcomes, models = preprocess_for_elo(df)
    n = matchups.shape[0]
    k = int(len(style_elements) / 2)

    def extract_style_feature(x, feature):  # type: ignore[no-untyped-def]
        val = x[feature]
        if isinstance(val, int):
            return val
        else:
            return sum(val.values())

    style_vector = np.zeros(shape=(2 * k, n), dtype=np.int32)
    for idx, element in enumerate(style_elements):
        style_vector[idx, :] = df.conv_metadata.map(
            partial(extract_style_feature, feature=element)
        ).values
    style_vector = np.ascontiguousarray(style_vector)

    style_diff = (style_vector[:k] - style_vector[k:]).astype(float)
    style_sum = (style_vector[:k] + style_vector[k:]).astype(float)

    if add_one:
        style_sum = style_sum + np.ones(style_diff.shape)

    apply_ratio = np.flatnonzero(apply_ratio)

    # Apply ratio where necessary (length, etc)
    style_diff[apply_ratio] /= style_sum[apply_ratio]

    style_mean = np.mean(style_diff, axis=1)
    style_std = np.std(style_diff, axis=1)
    features = ((style_diff - style_mean[:, np.newaxis]) / style_std[:, np.newaxis]).T

    return matchups, features, outcomes, models


DIFF_MASK = np.array([1.0, -1.0], dtype=np.float64)


def contextual_bt_loss_and_grad(  # type: ignore[no-untyped-def]
    params, n_competitors, matchups, features, outcomes, alpha=1.0, reg=1.0, half_reg=0.5
):
    from scipy.special import expit

    reg_loss = half_reg * np.inner(params, params)
    ratings = params[:n_competitors]
    feature_params = params[n_competitors:]
    matchup_ratings = ratings[matchups]
    bt_logits = alpha * (matchup_ratings[:, 0] - matchup_ratings[:, 1])
    context_logits = np.dot(features, feature_params)
    probs = expit(bt_logits + context_logits)
    loss = -(np.log(probs) * outcomes + np.log(1.0 - probs) * (1.0 - outcomes)).sum() + reg_loss
    error = outcomes - probs
    grad = reg * params
    matchups_grads = -alpha * error
    np.add.at(grad[:n_competitors], matchups[:, [0, 1]], matchups_grads[:, None] * DIFF_MASK)
    grad[n_competitors:] -= np.dot(features.T, error)
    return loss, grad


def fit_contextual_bt(  # type: ignore[no-untyped-def]
    matchups,
    features,
    outcomes,
    models,
    idxs=None,
    alpha=math.log(10.0),  # noqa: B008
    reg=0.5,
    tol=1e-6,
):
    from scipy.optimize import minimize

    n_features = features.shape[1]
    n_models = len(models)
    initial_params = np.zeros(n_models + n_features, dtype=np.float64)
    half_reg = reg / 2.0
    if idxs is not None:
        matchups, features, outcomes = matchups[idxs], features[idxs], outcomes[idxs]
    result = minimize(
        fun=contextual_bt_loss_and_grad,
        x0=initial_params,
        args=(n_models, matchups, features, outcomes, alpha, reg, half_reg),
        jac=True,
        method="L-BFGS-B",
        options={"disp": False, "maxiter": 100, "gtol": tol},
    )
    return result["x"]


# -- the shared fixture ------------------------------------------------------------------------
def _answer(rng: np.random.Generator, verbose: bool) -> str:
    """A Markdown answer: verbose ones are longer and more formatted."""
    parts = []
    if verbose and rng.random() < 0.7:
        parts.append("## Answer")
    parts.append(" ".join(["word"] * int(rng.integers(5, 80 if verbose else 30))))
    for _ in range(int(rng.integers(0, 5 if verbose else 2))):
        parts.append(f"- item with **bold {int(rng.integers(9))}** text")
    if rng.random() < 0.3:
        parts.append("1. first\n2. second")
    if rng.random() < 0.2:
        parts.append("```\n# not a header\n- not a list\n```")
    return "\n".join(parts)


def _fixture(
    n: int = 400, seed: int = 3
) -> tuple[list[str], list[str], list[str], list[str], list[str]]:
    """Battles among four models; model 'v' writes long formatted answers and wins by style."""
    rng = np.random.default_rng(seed)
    models = ["v", "w", "x", "y"]
    strength = {"v": 0.0, "w": 0.3, "x": 0.1, "y": -0.2}
    ma, mb, ta, tb, winner = [], [], [], [], []
    for _ in range(n):
        a, b = rng.choice(models, 2, replace=False)
        txt_a, txt_b = _answer(rng, a == "v"), _answer(rng, b == "v")
        la, lb = len(txt_a), len(txt_b)
        logit = math.log(10) * (strength[a] - strength[b]) + 1.2 * (la - lb) / (la + lb + 1)
        u = rng.random()
        p = 1 / (1 + math.exp(-logit))
        w = "tie" if u < 0.1 else ("model_a" if rng.random() < p else "model_b")
        if w == "tie" and rng.random() < 0.3:
            w = "tie (bothbad)"
        ma.append(a)
        mb.append(b)
        ta.append(txt_a)
        tb.append(txt_b)
        winner.append(w)
    return ma, mb, ta, tb, winner


def _frame(ma, mb, ta, tb, winner):  # type: ignore[no-untyped-def]
    meta = []
    for x, y in zip(ta, tb, strict=True):
        ours_a, ours_b = style_counts(x), style_counts(y)
        meta.append(
            {
                "sum_assistant_a_tokens": ours_a[0],
                "sum_assistant_b_tokens": ours_b[0],
                **count_markdown_elements(re.sub(r"```[^`]*```", "", x), "_a"),
                **count_markdown_elements(re.sub(r"```[^`]*```", "", y), "_b"),
            }
        )
    return pd.DataFrame({"model_a": ma, "model_b": mb, "winner": winner, "conv_metadata": meta})


def _ours(ma, mb, ta, tb, winner):  # type: ignore[no-untyped-def]
    models = list(dict.fromkeys([*ma, *mb]))  # FastChat's factorize order
    idx = {m: i for i, m in enumerate(models)}
    matchups = np.array([(idx[a], idx[b]) for a, b in zip(ma, mb, strict=True)], np.int64)
    outcomes = np.array([{"model_a": 1.0, "model_b": 0.0}.get(w, 0.5) for w in winner], np.float64)
    ca = np.array([style_counts(t) for t in ta], np.float64)
    cb = np.array([style_counts(t) for t in tb], np.float64)
    return models, matchups, outcomes, ca, cb


def test_counts_equal_fastchat_count_markdown_elements() -> None:
    text = (
        "# Title\n## Sub\n###### Deep\n####### not\n#nospace\n"
        "- a\n* b\n  + c\n1. one\n 12. twelve\n"
        "**bold** and __also__ and **not\nbold** and ****\n"
        "```python\n# comment\n- dash\n**b**\n```\ntail"
    )
    fc = count_markdown_elements(re.sub(r"```[^`]*```", "", text), "")
    expected = (
        len(text),
        sum(fc["header_count"].values()),
        sum(fc["list_count"].values()),
        sum(fc["bold_count"].values()),
    )
    assert style_counts(text) == expected
    assert expected[1:] == (3, 5, 3)  # '** and **' counts: FastChat's regex


def test_features_equal_fastchat_preprocess_for_style() -> None:
    data = _fixture(200)
    df = _frame(*data)
    _matchups, fc_features, _outcomes, _models = preprocess_for_style(df)
    _models, _matchups, _outcomes, ca, cb = _ours(*data)
    ours, varies = style_features(ca, cb)
    assert varies.all()
    np.testing.assert_allclose(ours, fc_features, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n", [60, 400])
def test_fit_equals_fastchat_contextual_bt_and_construct_style_matrices(n: int) -> None:
    data = _fixture(n)
    df = _frame(*data)
    models, matchups, outcomes, ca, cb = _ours(*data)
    z, _varies = style_features(ca, cb)
    theta, _cov = fit_contextual(matchups, z, outcomes, len(models))

    # FastChat's current code (L-BFGS, gtol 1e-6).
    fc_matchups, fc_features, fc_outcomes, fc_models = preprocess_for_style(df)
    assert fc_models == models
    fc = fit_contextual_bt(fc_matchups, fc_features, fc_outcomes, fc_models, tol=1e-10)
    # FastChat stops after 100 L-BFGS iterations; ours is its optimum (gradient ~0, loss no
    # higher), within a fraction of a rating point of FastChat's answer.
    args = (len(models), fc_matchups, fc_features, fc_outcomes, math.log(10.0), 0.5, 0.25)
    ours_loss, ours_grad = contextual_bt_loss_and_grad(theta, *args)
    fc_loss, _grad = contextual_bt_loss_and_grad(fc, *args)
    assert np.abs(ours_grad).max() < 1e-8 and ours_loss <= fc_loss + 1e-12
    np.testing.assert_allclose(theta, fc, atol=5e-4)
    # FastChat's loss minimised to convergence (its L-BFGS without the iteration cap) is ours.
    from scipy.optimize import minimize

    full = minimize(
        contextual_bt_loss_and_grad,
        np.zeros(theta.size),
        args=args,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 10_000, "gtol": 1e-12, "ftol": 1e-15},
    )
    np.testing.assert_allclose(theta, full.x, atol=1e-6)

    # FastChat's first style control: duplicated battles, scikit-learn's logistic regression.
    pytest.importorskip("sklearn")
    X, Y, fc_index = construct_style_matrices(df)
    elo, coef = fit_mle_elo(X, Y, fc_index)
    ours_elo = theta[: len(models)] * 400 + 1000
    for i, m in enumerate(models):
        assert ours_elo[i] == pytest.approx(elo[m], abs=0.5)
    np.testing.assert_allclose(theta[len(models) :], coef, atol=2e-3)


def test_style_control_raw_and_adjusted_with_intervals() -> None:
    data = _fixture(400)
    models, matchups, outcomes, ca, cb = _ours(*data)
    res = style_control(models, matchups, outcomes, ca, cb, rounds=200, seed=0)
    assert res.enough and res.n_battles == 400
    length = res.coefficients[0]
    assert length["feature"] == "length" and length["varies"]
    # The fixture's votes favour the longer answer: a positive coefficient, excluding 0.
    assert length["lower"] > 0 and length["lower"] <= length["coef"] <= length["upper"]
    v = models.index("v")
    # The verbose model's rating drops once style is held fixed.
    assert res.adjusted[v]["rating"] < res.raw[v]["rating"]
    for side in (res.raw, res.adjusted):
        for r in side:
            assert r["lower"] <= r["rating"] <= r["upper"]
    # The raw column is the same fit without covariates: FastChat's contextual BT with no feature.
    fc = fit_contextual_bt(matchups, np.zeros((400, 0)), outcomes, models, tol=1e-10)
    np.testing.assert_allclose([r["rating"] for r in res.raw], fc * 400 + 1000, atol=0.01)
    share = res.longer_won
    assert share["enough"] and share["lower"] <= share["rate"] <= share["upper"]
    assert share["rate"] > 0.5


def test_small_n_is_not_fitted_and_constant_features_have_no_coefficient() -> None:
    data = _fixture(MIN_STYLE_BATTLES - 1)
    res = style_control(*_ours(*data), rounds=50)
    assert not res.enough and res.adjusted == [] and res.n_battles == MIN_STYLE_BATTLES - 1
    # Plain answers: no header, list or bold anywhere — only length varies.
    models = ["a", "b"]
    rng = np.random.default_rng(0)
    n = 40
    matchups = np.array([(0, 1)] * n, np.int64)
    la, lb = rng.integers(10, 100, n), rng.integers(10, 100, n)
    ca = np.column_stack([la, np.zeros((n, 3))])
    cb = np.column_stack([lb, np.zeros((n, 3))])
    outcomes = (la > lb).astype(np.float64)  # separated: the longer answer always wins
    res = style_control(models, matchups, outcomes, ca, cb, rounds=50)
    assert [c["varies"] for c in res.coefficients] == [True, False, False, False]
    assert res.coefficients[1]["coef"] is None
    # Separated data: the penalty keeps the fit finite, and the interval holds the estimate.
    c = res.coefficients[0]
    assert math.isfinite(c["coef"]) and c["lower"] <= c["coef"] <= c["upper"]
    assert res.longer_won["rate"] == 1.0 and res.longer_won["lower"] < 1.0


def test_longer_share_equals_statsmodels_wilson() -> None:
    from statsmodels.stats.proportion import proportion_confint

    share = longer_share([10, 20, 30, 5, 5, 7], [5, 30, 10, 5, 9, 1], [1, 0, 1, 1, 0.5, 0])
    # Decisive, different lengths: (10>5 a won ✓), (20<30 b won ✓), (30>10 a ✓), (7>1 b ✗).
    assert (share["won"], share["n"]) == (3, 4)
    lo, hi = proportion_confint(3, 4, method="wilson")
    assert share["lower"] == pytest.approx(lo) and share["upper"] == pytest.approx(hi)
    assert not share["enough"]


def test_over_the_bootstrap_budget_the_intervals_are_normal_and_say_so() -> None:
    data = _fixture(400)
    models, matchups, outcomes, ca, cb = _ours(*data)
    boot = style_control(models, matchups, outcomes, ca, cb, rounds=200, seed=0)
    normal = style_control(models, matchups, outcomes, ca, cb, rounds=200, boot_budget=1000)
    assert boot.interval == "bootstrap" and boot.to_json()["interval"] == "bootstrap"
    assert normal.interval == "normal" and normal.to_json()["interval"] == "normal"
    for b, n in zip(boot.adjusted, normal.adjusted, strict=True):
        # Same point; the normal interval is symmetric and inside the wider-of-both one.
        assert n["rating"] == pytest.approx(b["rating"], abs=1e-9)
        assert n["rating"] - n["lower"] == pytest.approx(n["upper"] - n["rating"], rel=1e-9)
        assert b["lower"] <= n["lower"] and n["upper"] <= b["upper"]
    c = normal.coefficients[0]
    assert c["lower"] < c["coef"] < c["upper"]
