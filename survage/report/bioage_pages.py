"""Report pages on biological age: KM by acceleration quartile, BA vs CA, hazard ratios, KDM held-out.

Every number comes from ``metrics.json`` (schema: ``docs/api.md``); nothing is computed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from survage.report import figures, tables
from survage.report.layout import CM, absent, esc, image, table

#: column widths (cm) of the clock table and of the hazard-ratio table
CLOCK_WIDTHS = tuple(w * CM for w in (3.5, 1.1, 1.2, 1.1, 1.8, 1.2, 2.2, 1.9, 1.7, 1.6))
TRUTH_WIDTHS = tuple(w * CM for w in (4.5, 4.0, 2.5, 2.5))
HR_WIDTHS = tuple(w * CM for w in (3.7, 2.5, 2.3, 1.5, 2.5, 2.3, 1.5))


def km_page(m: Mapping[str, Any], fd: Mapping[str, Any], st: Mapping[str, Any], width: float) -> list[Any]:
    """Section 4: Kaplan-Meier survival by quartile of (residual) age acceleration."""
    from reportlab.platypus import Paragraph

    out: list[Any] = [Paragraph("4. Survival by quartile of age acceleration", st["h1"])]
    km = m.get("km_by_acceleration_quartile")
    if not km:
        return out + [absent(m, "km_by_acceleration_quartile", st)]
    residual = km.get("acceleration") == "residual"
    what = "Age-adjusted (residual) acceleration" if residual else "Raw acceleration (BA - CA)"
    cap = f"Clock: {km['clock_label']}; outcome: {km['outcome']}; {km.get('population', 'test set')}. "
    cap += f"Quartiles of {what.lower()}"
    cap += f": {km['acceleration_note']}" if km.get("acceleration_note") else "."
    head = ["Quartile", f"{what}, y", "People", "Events"]
    with_age = any(g.get("mean_age") is not None for g in km["groups"])
    if with_age:
        head.append("Mean age, y")
    rows = [head]
    for g in km["groups"]:
        r = [g["label"], f"{tables.fmt(g['lower'], 1)} to {tables.fmt(g['upper'], 1)}", f"{g['n']:,}",
             f"{g['events']:,}"]
        if with_age:
            r.append(tables.fmt(g.get("mean_age"), 1))
        rows.append(r)
    out += [Paragraph(esc(cap), st["small"]),
            image(figures.km_figure(fd.get("km_by_acceleration_quartile", km)), width, 11 * CM),
            table(rows, st)]
    return out


def scatter_page(m: Mapping[str, Any], fd: Mapping[str, Any], st: Mapping[str, Any], width: float) -> list[Any]:
    """Section 5: biological against chronological age, and the clock table on the same rows."""
    from reportlab.platypus import Paragraph, Spacer

    out: list[Any] = [Paragraph("5. Biological against chronological age", st["h1"])]
    ba = m.get("bioage")
    if not ba:
        return out + [absent(m, "bioage", st)]
    ref = ba.get("reference", {})
    if ref:
        out.append(Paragraph(esc(
            f"Biological age: the age at which the Gompertz reference population (fitted on the training "
            f"rows, log-hazard {tables.fmt(ref.get('alpha'), 3)} + {tables.fmt(ref.get('beta'), 4)} x age) "
            f"carries the model's predicted {tables.fmt(ref.get('horizon'), 0)}-year cumulative hazard. "
            f"Acceleration = biological minus chronological age. PhenoAge constant c = "
            f"{m['methods'].get('phenoage_constant')}."), st["small"]))
    rows, rules = tables.clock_rows(ba)
    out += [image(figures.scatter_figure(fd.get("bioage_clocks", ba["clocks"])), width, 8 * CM),
            Spacer(1, 6),
            Paragraph(esc(f"Clocks compared on the same people: {ba.get('population', 'test set')}. "
                          "HR: Cox model of the outcome on chronological age and raw acceleration; LR gain over "
                          "age alone (1 df); C of that model."), st["small"]),
            table(rows, st, CLOCK_WIDTHS, rule_above=rules)]
    if ba.get("clocks_all_rows"):
        out.append(Paragraph(esc("The line below the rule is the survage clock on every test row: other people, "
                                 "so not comparable with the lines above."), st["small"]))
    if ba.get("truth"):
        out += truth_block(ba["truth"], st)
    return out


def truth_block(truth: Mapping[str, Any], st: Mapping[str, Any]) -> list[Any]:
    """Biological age against the simulator's known truth (``bioage.truth``): a sentence and a table."""
    from reportlab.platypus import Paragraph, Spacer

    ci = f"{truth['n_bootstrap']:,} bootstrap resamples, seed {truth.get('seed')}"
    return [Spacer(1, 6), Paragraph("Biological age against the known truth", st["h2"]),
            Paragraph(esc(
                f"The cohort was simulated by {truth.get('simulator', 'the survage simulator')}, which records "
                f"each person's true biological age ({truth.get('column', 'true_biological_age')}; never a "
                f"feature). Pearson r with the true biological age on the {truth.get('population', 'test rows')} "
                f"({truth['n']:,} people), 95% percentile bootstrap intervals ({ci}, the same resamples for both "
                "ages); error = biological minus true biological age."), st["small"]),
            table(tables.truth_rows(truth), st, TRUTH_WIDTHS)]


def hr_page(m: Mapping[str, Any], fd: Mapping[str, Any], st: Mapping[str, Any], width: float) -> list[Any]:
    """Section 6: forest plot and table of hazard ratios of raw and residual acceleration."""
    from reportlab.platypus import Paragraph

    out: list[Any] = [Paragraph("6. Hazard ratios of age acceleration", st["h1"])]
    ba = m.get("bioage")
    if not ba:
        return out + [absent(m, "bioage", st)]
    out += [Paragraph(esc(
        f"Cox model of {ba.get('outcome', m['primary_outcome'])} on chronological age and acceleration; "
        f"{ba.get('population', 'test set')}. Raw acceleration: BA - CA; residual: BA minus an OLS line of BA "
        "on CA fitted on the training rows. With age in the model both give the same LR gain, C and HR per "
        "year; the HR per SD differs by the SD. Per year alone can be gamed by shrinking the spread of "
        "acceleration; per SD and the C-index cannot."), st["small"]),
        image(figures.hazard_ratio_figure(fd.get("bioage_clocks", ba["clocks"])), width, 10 * CM)]
    rows, rules = tables.hr_rows(ba)
    out.append(table(rows, st, HR_WIDTHS, rule_above=rules))
    return out


def kdm_holdout_page(m: Mapping[str, Any], st: Mapping[str, Any], width: float) -> list[Any]:
    """Section 7: Klemera-Doubal, PhenoAge and survage on the held-out training-survey rows."""
    from reportlab.platypus import Paragraph, Spacer

    sec = m.get("kdm_holdout")
    title = (sec or {}).get("title", "Klemera-Doubal (NHANES III held-out)")
    out: list[Any] = [Paragraph(esc(f"7. {title}"), st["h1"])]
    if not sec:
        return out + [absent(m, "kdm_holdout", st)]
    k = sec["kdm"]
    fit = ", ".join(f"{s} {n:,} ({k.get('n_complete', {}).get(s, 0):,} complete)" for s, n in k["n_train"].items())
    out += [Paragraph(esc(f"Outcome: {sec['outcome']}. People: {sec['population']}."), st["small"]),
            Paragraph(esc(sec["rows"]), st["small"]),
            Paragraph(esc(f"Klemera-Doubal age fitted on the {k['fitted_on']}: {fit}; biomarkers "
                          f"{', '.join(k['biomarkers'])}. PhenoAge: the published formula, wherever its nine "
                          "markers are present."), st["small"]),
            Spacer(1, 4)]
    rows, rules = tables.clock_rows(sec)
    out.append(table(rows, st, CLOCK_WIDTHS, rule_above=rules))
    out += [Spacer(1, 4), image(figures.hazard_ratio_figure(sec["clocks"]), width, 9 * CM)]
    hr, hr_rules = tables.hr_rows(sec)
    out.append(table(hr, st, HR_WIDTHS, rule_above=hr_rules))
    return out
