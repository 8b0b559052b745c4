"""Admin views as chat text, in the admin's language; times in the service's time zone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot import render
from bot.schedule_words import describe_cron_words
from bot.texts import t
from core.admin import ActionEntry, HealthEntry, Overview, ScheduledRun, TenantDetail, TenantPage
from core.scheduling import InvalidCron

NEXT_RUNS_SHOWN = 5
JOBS_SHOWN = 30
ERROR_SHOWN_CHARS = 200
WHEN = "%d.%m %H:%M"


def uptime(lang: str, seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes >= 24 * 60:
        return t(lang, "admin_uptime_days", d=minutes // 1440, h=minutes % 1440 // 60)
    return t(lang, "admin_uptime_hours", h=minutes // 60, m=minutes % 60)


def _when(moment: datetime | None, tz: str, lang: str) -> str:
    if moment is None:
        return t(lang, "admin_job_paused")
    return render.local_time(moment, tz, WHEN)


def run_lines(lang: str, runs: Sequence[ScheduledRun], tz: str, limit: int) -> list[str]:
    lines = [
        t(lang, "admin_job_line", when=_when(run.next_run_at, tz, lang), job=run.job_id)
        for run in runs[:limit]
    ]
    if len(runs) > limit:
        lines.append(t(lang, "admin_jobs_more", count=len(runs) - limit))
    return lines


def health_line(lang: str, health: HealthEntry | None, tz: str) -> str:
    if health is None:
        return t(lang, "admin_health_none")
    if health.ok:
        result = t(lang, "admin_health_ok")
    else:
        failed = [name for name, value in sorted(health.details.items()) if value is False]
        result = t(lang, "admin_health_bad", problems=", ".join(failed) or "?")
    return t(
        lang, "admin_health", when=render.local_time(health.checked_at, tz, WHEN), result=result
    )


def action_lines(lang: str, actions: Sequence[ActionEntry], tz: str) -> list[str]:
    if not actions:
        return [t(lang, "admin_actions_none")]
    lines = [t(lang, "admin_actions_title")]
    for entry in actions:
        lines.append(
            t(
                lang,
                "admin_action_line",
                when=render.local_time(entry.at, tz, WHEN),
                admin=entry.admin_id,
                action=t(lang, f"admin_action_{entry.action}"),
                target=entry.target or "",
            ).rstrip()
        )
    return lines


def overview(
    lang: str,
    data: Overview,
    *,
    running: int,
    queued: int = 0,
    runs: Sequence[ScheduledRun] | None,
    backend: str,
    version: str,
    uptime_seconds: float | None,
    tz: str,
) -> str:
    lines = [
        t(
            lang,
            "admin_overview",
            total=data.tenants_total,
            active=data.tenants_active,
            paused=data.tenants_paused,
            with_key=data.tenants_with_key,
            expiring=data.keys_expiring,
            ok=data.syncs_ok_24h,
            failed=data.syncs_failed_24h,
            running=running,
            queued=queued,
            backend=backend,
            version=version,
            uptime=uptime(lang, uptime_seconds) if uptime_seconds is not None else "?",
        ),
        "",
    ]
    if runs is None:
        lines.append(t(lang, "admin_scheduler_off"))
    elif not runs:
        lines.append(t(lang, "admin_jobs_none"))
    else:
        lines.append(t(lang, "admin_next_runs_title"))
        lines.extend(run_lines(lang, runs, tz, NEXT_RUNS_SHOWN))
    lines.append(health_line(lang, data.last_health, tz))
    lines.append("")
    lines.extend(action_lines(lang, data.recent_actions, tz))
    return "\n".join(lines)


def jobs(lang: str, runs: Sequence[ScheduledRun] | None, tz: str) -> str:
    if runs is None:
        return t(lang, "admin_scheduler_off")
    if not runs:
        return t(lang, "admin_jobs_none")
    return "\n".join(
        [t(lang, "admin_jobs_title", count=len(runs)), *run_lines(lang, runs, tz, JOBS_SHOWN)]
    )


def tenant_page(lang: str, page: TenantPage, tz: str) -> str:
    if page.total == 0:
        return t(lang, "admin_tenants_empty")
    lines = [t(lang, "admin_tenants_title", total=page.total, page=page.page + 1, pages=page.pages)]
    for row in page.rows:
        if row.last_status is None or row.last_started_at is None:
            last = t(lang, "admin_never_synced")
        else:
            last = t(
                lang,
                "admin_last_sync",
                result=t(lang, f"result_{row.last_status}"),
                when=render.local_time(row.last_started_at, tz, WHEN),
            )
        flags = []
        if not row.is_active:
            flags.append(t(lang, "admin_flag_inactive"))
        if row.is_paused:
            flags.append(t(lang, "admin_flag_paused"))
        if not row.has_key:
            flags.append(t(lang, "admin_flag_no_key"))
        lines.append(
            t(
                lang,
                "admin_tenant_row",
                id=row.id,
                chat=row.chat_id,
                name=row.seller_name or row.user_name or "—",
                last=last,
            )
            + (f" [{', '.join(flags)}]" if flags else "")
        )
    return "\n".join(lines)


def _schedule(lang: str, cron: str | None) -> str:
    if cron is None:
        return t(lang, "admin_schedule_off")
    try:
        return f"{describe_cron_words(cron, lang)} ({cron})"
    except InvalidCron:
        return cron


def tenant_detail(lang: str, detail: TenantDetail, next_run: datetime | None, tz: str) -> str:
    """Everything about one seller an admin may see; the key itself never appears."""
    tenant = detail.tenant
    if not tenant.is_active:
        state = t(lang, "admin_state_inactive")
    elif tenant.is_paused:
        state = t(lang, "admin_state_paused")
    else:
        state = t(lang, "admin_state_active")
    lines = [
        t(lang, "admin_tenant_title", id=tenant.id, name=tenant.seller_name or "—"),
        t(
            lang,
            "admin_tenant_chat",
            chat=tenant.chat_id,
            user=tenant.user_name or "—",
            user_id=tenant.user_id,
            language=tenant.language,
            tz=tenant.timezone,
        ),
        t(lang, "admin_tenant_state", state=state),
        t(lang, "admin_tenant_schedule", schedule=_schedule(lang, tenant.schedule_cron)),
    ]
    if next_run is not None:
        lines.append(t(lang, "admin_tenant_next_run", when=render.local_time(next_run, tz, WHEN)))
    if tenant.has_key:
        expires = (
            render.local_time(tenant.key_expires_at, tz, "%d.%m.%Y")
            if tenant.key_expires_at
            else "—"
        )
        lines.append(
            t(
                lang,
                "admin_tenant_key",
                fingerprint=tenant.key_fingerprint or "?",
                token_type=render.token_type(lang, tenant.token_type),
                categories=render.categories(lang, tenant.token_categories),
                expires=expires,
            )
        )
        if tenant.key_invalid_reason:
            lines.append(t(lang, "admin_tenant_key_invalid", reason=tenant.key_invalid_reason))
    else:
        lines.append(t(lang, "admin_tenant_no_key"))
    lines.append("")
    if not detail.logs:
        lines.append(t(lang, "admin_tenant_no_syncs"))
    else:
        lines.append(t(lang, "status_title"))
    for entry in detail.logs:
        values = {
            "when": render.local_time(entry.started_at, tz),
            "trigger": t(lang, f"trigger_{entry.trigger}"),
            "result": t(lang, f"result_{entry.status}"),
            "duration": render.duration(lang, (entry.duration_ms or 0) / 1000),
        }
        if entry.error:
            error = entry.error[:ERROR_SHOWN_CHARS]
            lines.append(t(lang, "status_line_error", error=error, **values))
        else:
            lines.append(t(lang, "status_line", **values))
    return "\n".join(lines)
