"""Traces: what a ``context`` call considered, chose, and under which config."""

from __future__ import annotations

from selfmodel.server.auth import Reader
from selfmodel.server.routes import IdPath, v1_router
from selfmodel.server.schemas import TraceOut

router = v1_router("traces")


@router.get("/traces/{trace_id}", response_model=TraceOut)
def get_trace(trace_id: IdPath, caller: Reader) -> TraceOut:
    trace = caller.sm.trace(trace_id)
    return TraceOut(
        id=trace.id,
        workspace_id=trace.workspace_id,
        user_ids=list(trace.user_ids),
        query=trace.query,
        created_at=trace.created_at,
        latency_ms=trace.latency_ms,
        config=trace.config,
        payload=trace.payload,
    )
