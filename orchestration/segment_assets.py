"""Segments for marketers and the serving copy for BI: the export asset writes every valid
segment's files; one asset per segment file shows its counts and a masked preview (or fails
naming the file, line and field of a bad definition); the serving asset publishes the marts."""

import json
from datetime import datetime
from pathlib import Path

import dagster as dg
from dagster_dbt import get_asset_key_for_model
from dagster_duckdb import DuckDBResource

from activation.exports import export_segments, load_cap
from activation.privacy import mask_sql
from activation.segments import SegmentError, load_segment, load_segments, usable_fields
from activation.serving import publish
from orchestration.dbt_assets import scrm_dbt_models
from orchestration.project import dbt_project
from orchestration.report_assets import md_table
from orchestration.resources import ExportFolder, SegmentsFolder, ServingCopy
from orchestration.settings import path_setting

EXPORTS_KEY = dg.AssetKey(["exports", "segment_exports"])


def segment_key(path: Path) -> dg.AssetKey:
    return dg.AssetKey(["segments", "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in path.stem)])


@dg.asset(
    key=EXPORTS_KEY,
    group_name="segments",
    deps=[get_asset_key_for_model([scrm_dbt_models], name) for name in ("fan_360", "fans_to_forget")],
    description="Every valid segment definition in the segments folder (SCRM_SEGMENTS_DIR): membership "
    "snapshot, entered/left since the last export, the frequency cap across segments, and a folder per "
    "segment under SCRM_EXPORT_DIR with CSV (UTF-8 with BOM), Parquet and manifest.json. Opted-out fans are "
    "never exported; contact data leaves hashed unless a definition allows masked or raw.",
    kinds={"duckdb", "polars"},
)
def segment_exports(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, segments: SegmentsFolder, exports: ExportFolder
) -> dg.MaterializeResult:
    folder = segments.folder
    with duckdb.get_connection() as conn:
        definitions, errors = load_segments(folder, usable_fields(conn, dbt_project().manifest_path))
        for error in errors:
            context.log.error(f"segment definition refused: {error}")
        forget = conn.execute("select fan_id from privacy.fans_to_forget").fetchall()
        results = export_segments(
            conn,
            definitions,
            exports.folder,
            context.run_id,
            datetime.now(),
            load_cap(folder),
            progress=context.log.info,
            forget=tuple(f for (f,) in forget),
        )
    rows = [
        (
            r["segment"],
            r["channel"],
            *r["counts"].values(),
            Path(r["folder"]).relative_to(exports.folder),
        )
        for r in results
    ]
    return dg.MaterializeResult(
        metadata={
            "segments": md_table(
                ["segment", "channel", "members", "exported", "capped", "entered", "left", "folder"], rows
            ),
            "refused definitions": md_table(
                ["file", "line", "field", "problem"], [(e.path.name, e.line, e.field, e.problem) for e in errors]
            ),
            "export folder": dg.MetadataValue.path(str(exports.folder)),
        }
    )


def build_segment_asset(path: Path) -> dg.AssetsDefinition:
    @dg.asset(
        key=segment_key(path),
        group_name="segments",
        deps=[EXPORTS_KEY],
        description=f"Segment defined in `{path.name}`: members, exported, capped, entered and left this run, "
        "and a masked preview. Fails with the file, line and field when the definition is refused.",
        kinds={"duckdb"},
    )
    def _segment(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
        with duckdb.get_connection() as conn:
            try:
                segment = load_segment(path, usable_fields(conn, dbt_project().manifest_path))
            except SegmentError as error:
                raise dg.Failure(description=f"segment definition refused: {error}") from None
            row = conn.execute(
                "select members, exported, capped, entered, left_segment, folder from segments.exports "
                "where run_id = ? and segment = ?",
                [context.run_id, segment.name],
            ).fetchone()
            if row is None:
                raise dg.Failure(
                    f"{path.name}: segment '{segment.name}' was not exported in this run (see the export asset)"
                )
            preview = conn.execute(
                f"""select fan_360.fan_id, {mask_sql("fan_360.phone", "phone")}, fan_360.ladder_rung, fan_360.trust_tier
                    from segments.memberships inner join marts.fan_360 using (fan_id)
                    where memberships.run_id = ? and memberships.segment = ? and memberships.is_exported
                    order by fan_360.fan_id limit 5""",
                [context.run_id, segment.name],
            ).fetchall()
        members, exported, capped, entered, left, folder = row
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": dg.MetadataValue.int(members),
                "exported": dg.MetadataValue.int(exported),
                "capped by frequency": dg.MetadataValue.int(capped),
                "entered": dg.MetadataValue.int(entered),
                "left": dg.MetadataValue.int(left),
                "channel": segment.channel,
                "contact data": segment.contact_data,
                "owner": segment.owner,
                "definition hash": segment.definition_hash,
                "preview (masked)": md_table(["fan", "phone", "ladder", "trust"], preview),
                "folder": dg.MetadataValue.path(folder),
            }
        )

    return _segment


def build_segment_assets() -> list[dg.AssetsDefinition]:
    folder = path_setting("SCRM_SEGMENTS_DIR")
    return [build_segment_asset(p) for p in sorted(folder.glob("*.yml")) if not p.name.startswith("_")]


def mart_keys() -> list[dg.AssetKey]:
    """Every dbt model of the marts folder: the serving copy is published when all have built."""
    nodes = json.loads(Path(dbt_project().manifest_path).read_text())["nodes"].values()
    names = sorted(n["name"] for n in nodes if n["resource_type"] == "model" and n["fqn"][1] == "marts")
    return [get_asset_key_for_model([scrm_dbt_models], name) for name in names]


def build_serving_asset() -> dg.AssetsDefinition:
    @dg.asset(
        key=["serving", "warehouse"],
        group_name="serving",
        deps=[*mart_keys(), EXPORTS_KEY],
        description="The read-only copy BI tools open (SCRM_SERVING_PATH): every mart with the columns the dbt "
        "docs mark as personal data masked (a mart view over kept models stays a view, over copies of what it "
        "reads), BI views in schema `bi`, and `_serving.published` (run, row counts). Written to a temporary "
        "file and renamed into place after a successful run; the storage version "
        "(SCRM_SERVING_STORAGE_VERSION, default v1.4.0) lets BI clients embedding DuckDB 1.4 or 1.5 open it.",
        kinds={"duckdb"},
    )
    def _serving(
        context: dg.AssetExecutionContext, duckdb: DuckDBResource, serving: ServingCopy
    ) -> dg.MaterializeResult:
        target = serving.file
        with duckdb.get_connection() as conn:
            rows = publish(
                conn, target, dbt_project().manifest_path, context.run_id, serving.storage_version, context.log.info
            )
        marts = sum(name.startswith("marts.") for name in rows)
        context.log.info(f"published {marts} marts and {len(rows) - marts} tables they read to {target}")
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(target)),
                "storage version": serving.storage_version,
                "tables": md_table(["table", "rows"], sorted(rows.items())),
            }
        )

    return _serving
