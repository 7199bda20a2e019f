"""Run the whole pipeline from the command line, on the same Dagster instance as the UI."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from common.warehouse import first_row
from ingestion.batches import describe, held_batches
from orchestration.builds import built_in_run
from orchestration.project import prepare_dbt
from orchestration.resources import warehouse_resource
from orchestration.settings import apply_defaults, path_setting


@dataclass
class PipelineRun:
    """What a run did: success, its checks, the steps that failed and why."""

    ok: bool
    run_id: str
    checks: list = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (step, first line of the error)
    orphans: list[str] = field(default_factory=list)  # earlier runs found killed and marked failed


def run_pipeline(rebuild: bool = False) -> PipelineRun:
    """Materialise every asset, after marking failed the runs a killed process left STARTED. The
    models are built only when something they read changed, or with `rebuild`."""
    apply_defaults()
    prepare_dbt()  # dagster-dbt loads the manifest when the definitions are imported
    import dagster as dg

    from orchestration.definitions import build_definitions
    from orchestration.runs import fail_orphaned_runs

    defs = build_definitions()
    job = defs.resolve_job_def("scrm_pipeline")
    with dg.DagsterInstance.get() as instance:
        orphans = fail_orphaned_runs(instance)
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            resources=defs.resources,
            run_config={
                "loggers": {"console": {"config": {"log_level": "INFO"}}},
                "ops": {"scrm_dbt_models": {"config": {"rebuild": rebuild}}},
            },
        )
    failures = [
        (event.step_key or "run", _first_line(event.event_specific_data.error.message))
        for event in result.all_events
        if event.is_step_failure and event.event_specific_data and event.event_specific_data.error
    ]
    return PipelineRun(result.success, result.run_id, result.get_asset_check_evaluations(), failures, orphans)


def _first_line(message: str) -> str:
    return next((line.strip() for line in message.splitlines() if line.strip()), message)


def summary(run: PipelineRun, truth: bool = True) -> str:
    """What loaded, what failed and why, what is held, the checks, and the marts at a glance."""
    warehouse = path_setting("SCRM_DUCKDB_PATH")
    lines = [f"warehouse: {warehouse}", ""]
    if run.orphans:
        lines += [f"earlier runs left STARTED by a killed process, now marked failed: {', '.join(run.orphans)}", ""]
    if run.failures:
        lines.append(f"run {run.run_id} FAILED:")
        lines += [f"  {step}: {message}" for step, message in run.failures]
        lines.append("")
    lines.append(
        f"{'source':<22}{'files':>7}{'failed':>8}{'rows read':>12}{'loaded':>12}{'rejected':>10}{'raw rows':>12}"
    )
    with warehouse_resource().get_connection() as conn:
        rows = conn.execute("""
            select source, count(*) filter (where status = 'loaded'), count(*) filter (where status = 'failed'),
                   sum(rows_read), sum(rows_loaded), sum(rows_rejected)
            from raw._load_ledger group by source order by source""").fetchall()
        for source, files, failed, read, loaded, rejected in rows:
            raw = first_row(conn, f'select count(*) from raw."{source}"')[0]
            lines.append(f"{source:<22}{files:>7}{failed:>8}{read:>12,}{loaded:>12,}{rejected:>10,}{raw:>12,}")
        failures = conn.execute(
            "select source_file, message from raw._load_ledger where status = 'failed' order by 1"
        ).fetchall()
        missing = conn.execute(
            "select source_file, missing_columns from raw._load_ledger where run_id = ? and len(missing_columns) > 0 "
            "order by 1",
            [run.run_id],
        ).fetchall()
        held = held_batches(conn)
        skipped = run.ok and not built_in_run(conn, run.run_id)
        rest = _marts_and_deliveries(conn, truth)
    for name, message in failures:
        lines.append(f"  failed file {name}: {message}")
    for name, columns in missing:
        lines.append(f"  file {name} lacks declared column(s) {', '.join(columns)}: loaded as empty")
    if held:
        lines.append("held out of staging until released or dropped (`scrm batches`):")
        lines += [f"  {describe(batch)}" for batch in held]
    lines.append("")
    checks = run.checks
    suites = [c for c in checks if c.check_name == "great_expectations"]
    for check in sorted(suites, key=lambda c: c.asset_key.to_user_string()):
        state = "passed" if check.passed else f"FAILED ({check.severity.value})"
        lines.append(f"great expectations {check.asset_key.to_user_string():<28}{state}")
    tests = [c for c in checks if c.check_name not in ("great_expectations", "contract_columns", "freshness")]
    failed = [c for c in tests if not c.passed]
    if skipped:
        lines.append("nothing new since the last build: the models, exports and serving copy are as they were")
    else:
        lines.append(f"dbt tests: {len(tests) - len(failed)} passed, {len(failed)} failed")
    lines.extend(f"  FAILED {c.asset_key.to_user_string()}:{c.check_name}" for c in failed)
    return "\n".join(lines + rest)


def has_sample_tooling() -> bool:
    """The truth comparison is demo tooling: it comes with a clone (sample/), not the package."""
    import importlib.util

    return importlib.util.find_spec("sample") is not None


def _marts_and_deliveries(conn: duckdb.DuckDBPyConnection, truth: bool) -> list[str]:
    built = first_row(
        conn, "select count(*) from information_schema.tables where table_schema = 'marts' and table_name = 'fans'"
    )[0]
    if not built:
        return ["", "the marts have not been built yet: nothing to show past the loads"]
    if not first_row(conn, "select count(*) from marts.fans")[0]:
        landing = path_setting("SCRM_LANDING_DIR")
        return ["", f"the marts hold no fans: no rows were loaded (is {landing} the landing folder?)"]
    return ["", *identity_summary(conn, truth), "", *marts_summary(conn, truth), "", *delivery_summary(conn)]


def identity_summary(conn: duckdb.DuckDBPyConnection, truth: bool = True) -> list[str]:
    """Fans, the quarantine, and, when the sample's truth lies beside the landing folder, the
    accuracy of identity resolution against it."""
    from activation.figures import identity_figures

    f = identity_figures(conn)
    lines = [
        f"fans: {f['fans']:,} from {f['records']:,} records ({f['single_record_fans']:,} single-record, "
        f"{f['fans_in_two_or_more_silos']:,} in two or more silos, largest {f['largest_fan']} records); "
        f"merges {f['merges']}, splits {f['splits']} over all runs; merges refused (two people's identities) "
        f"{f['refused_merges']:,} ({f['refused_links']:,} links); fans over the size limit "
        f"{f['fans_over_size_limit']:,}",
        "identifier values that never link, or link only some of their records (marts.quarantined_identifiers):",
    ]
    lines += [f"  {kind:<12}{reason:<58}{n:>7,} values {c:>9,} records" for kind, reason, n, c in f["quarantine"]]
    lines.append(
        f"probable links (marts.probable_fan_links; review with `scrm links`): {f['probable_links_pending']:,} pending"
    )
    lines += [
        f"  {rule:<32}{pend:>6,} pending {accepted:>6,} accepted {rej:>6,} rejected"
        for rule, pend, accepted, rej in f["probable_links"]
    ]
    truth_dir = path_setting("SCRM_LANDING_DIR").parent / "truth"
    if truth and (truth_dir / "records.parquet").exists() and has_sample_tooling():
        from sample.accuracy import measure

        acc = measure(conn, truth_dir)
        lines.append(
            f"identity vs the generator's truth: precision {acc['precision']:.4f}, recall {acc['recall']:.4f} "
            f"(recall of reachable pairs {acc['recall_of_reachable']:.4f}; reachable = "
            f"{acc['reachable_share_of_true_pairs']:.1%} of true pairs), {acc['fans']:,} fans for "
            f"{acc['people']:,} people; {acc['fans_mixing_people']:,} fans mix people (at most "
            f"{acc['most_people_in_one_fan']} in one)"
        )
        lines.append(f"  {'phenomenon':<18}{'records':>9}{'precision':>11}{'recall':>9}{'reachable':>11}")
        lines += [
            f"  {name:<18}{p['records']:>9,}{p['precision']:>11.4f}{p['recall']:>9.4f}{p['recall_of_reachable']:>11.4f}"
            for name, p in acc.get("by_phenomenon", {}).items()
        ]
        det = acc["deterministic_only"]
        lines.append(
            f"  exact identifiers only: precision {det['precision']:.4f}, recall {det['recall']:.4f}; "
            "the pending probable links, per rule, against the truth:"
        )
        lines += [
            f"  {rule:<32}{r['pending']:>6,} pending, {r['pending_precision']:.4f} right; all accepted: precision "
            f"{r['if_all_pending_accepted']['precision']:.4f}, recall {r['if_all_pending_accepted']['recall']:.4f}"
            for rule, r in acc["probable_links"].items()
        ]
    return lines


def marts_summary(conn: duckdb.DuckDBPyConnection, truth: bool = True) -> list[str]:
    """Each mart in a few lines and, with the sample's truth, the referral edges and suspected
    bought followers against it."""
    from activation.figures import marts_figures

    f = marts_figures(conn)

    def counts(pairs) -> str:
        return ", ".join(f"{name} {n:,}" for name, n, *_ in pairs)

    lines = [
        f"marts as of {f['as_of_date']}:",
        f"  ladder: {counts(f['ladder'])}",
        f"  community steps: {counts(f['community_steps'])}",
        f"  engagement tiers: {counts(f['engagement_tiers'])}",
        f"  trust tiers: {counts(f['trust_tiers'])}; suspected bought followers {f['suspected_fakes']:,}",
        f"  RFM segments: {counts(f['rfm_segments'])}",
        f"  channel overlap: {f['fans_in_two_or_more_silos']:,} of {f['fans']:,} fans in two or more silos; "
        f"{f['offline_buyers_reachable_on_wechat']:,} of {f['offline_buyers']:,} offline buyers reachable on "
        f"WeChat ({f['share_offline_reachable_on_wechat']:.1%})",
    ]
    lines += [f"    {silos:<30}{n:>8,}{share:>7}%" for silos, n, share in f["channel_overlap"][:6]]
    lines.append("  top advocates (rank, fan, referrals, converted, everyone below, revenue yuan):")
    lines += [
        f"    {r:>2} {fan}  {d:>4} {c:>4} {below:>5} {rev:>12,.2f}"
        for r, fan, d, c, below, rev, _ in f["top_advocates"]
    ]
    lines.append("  referral campaigns (referrals, converted, K-factor):")
    lines += [f"    {name:<16}{n:>9,}{c:>9,}{k or 0:>8.3f}" for name, n, c, k, *_ in f["campaigns"]]
    truth_dir = path_setting("SCRM_LANDING_DIR").parent / "truth"
    if truth and (truth_dir / "referrals.parquet").exists() and has_sample_tooling():
        from sample.accuracy import measure_marts

        acc = measure_marts(conn, truth_dir)
        ref, fake = acc["referrals"], acc["suspected_fakes"]
        lines.append(
            f"marts vs the generator's truth: referral edges precision {ref['precision']:.4f}, recall "
            f"{ref['recall']:.4f} ({ref['correct']:,} of {ref['true']:,}); suspected bought followers precision "
            f"{fake['precision']:.4f}, recall {fake['recall']:.4f}; opted-out people marked contactable: "
            f"{acc['consent_violations']}"
        )
    return lines


def delivery_summary(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Where the latest run's segment exports and the serving copy for BI are."""
    exports, serving = path_setting("SCRM_EXPORT_DIR"), path_setting("SCRM_SERVING_PATH")
    lines = [f"segment exports under {exports}:"]
    has_exports = first_row(conn, "select count(*) from information_schema.tables where table_schema = 'segments'")[0]
    rows = (
        conn.execute("""
        select segment, members, exported, capped, entered, left_segment, folder from segments.exports
        where run_id = (select run_id from segments.exports order by exported_at desc limit 1)
        order by segment""").fetchall()
        if has_exports
        else []
    )
    for segment, members, exported, capped, entered, left, folder in rows:
        # an export written under another SCRM_EXPORT_DIR (the setting changed since) is named whole
        shown = Path(folder).relative_to(exports) if Path(folder).is_relative_to(exports) else folder
        lines.append(
            f"  {segment:<32}{members:>7,} members {exported:>7,} exported {capped:>5,} capped "
            f"+{entered:,} / -{left:,}  {shown}"
        )
    if serving.exists():
        with duckdb.connect(str(serving), read_only=True) as conn:
            marts = first_row(conn, "select count(*) from _serving.published where table_name like 'marts.%'")[0]
        lines.append(f"serving copy for BI (read-only, personal data masked): {serving} ({marts} marts, schema bi)")
    return lines
