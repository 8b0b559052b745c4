"""English texts (for users whose Telegram language is English)."""

TEXTS: dict[str, str] = {
    "start_new": (
        "Hello! I keep an eye on your Wildberries stock: FBO per WB warehouse, FBS per your own "
        "warehouse, orders, and how many days your stock will last.\n\n"
        "Next step: send your WB API key with /api_key. It needs the categories Content, "
        "Analytics, Marketplace and Statistics (read-only is enough).\n"
        "All commands: /help"
    ),
    "start_again": (
        "Welcome back! Your shop is connected.\n"
        "/sync refreshes the stock now, /status shows recent syncs. All commands: /help"
    ),
    "start_again_no_key": (
        "Welcome back! No WB key yet: send it with /api_key.\nAll commands: /help"
    ),
    "help": (
        "Commands:\n"
        "/api_key <key> — connect or replace your WB API key\n"
        "/sync — refresh the stock now\n"
        "/status — recent syncs and the key's state\n"
        "/schedule — automatic refresh schedule\n"
        "/threshold <days> — the low-stock threshold (7 days by default)\n"
        "/sheet <link> — link a Google Sheet\n"
        "/export — download the report as Excel\n"
        "/help — this help\n\n"
        "Create the key in your WB account: Settings → API access. Tick the categories "
        "Content, Analytics, Marketplace, Statistics and “Read only”."
    ),
    "cmd_start": "Get started",
    "cmd_help": "Help",
    "cmd_api_key": "Connect a WB API key",
    "cmd_sync": "Refresh the stock now",
    "cmd_status": "Recent syncs",
    "cmd_schedule": "Refresh schedule",
    "cmd_threshold": "Low-stock threshold",
    "cmd_sheet": "Google Sheet",
    "cmd_export": "Excel export",
    "unknown_command": "I don't know that command. Commands: /help",
    "private_only": (
        "This command works only in a private chat with the bot: an API key must never be shown "
        "in a group. Message me directly."
    ),
    "key_ask": (
        "Send your WB API key as the next message. I'll delete that message as soon as I get it."
        "\nCancel: /cancel"
    ),
    "key_cancelled": "OK, the key stays as it was.",
    "nothing_to_cancel": "Nothing to cancel.",
    "key_checking": "Checking the key…",
    "key_deleted_note": "The message with the key was deleted.",
    "key_not_deleted_note": "I could not delete the message with the key — please delete it yourself.",
    "key_malformed": (
        "That doesn't look like a WB API key: a key is a long string of three parts separated by "
        "dots. Copy it whole from your WB account (Settings → API access). Nothing was saved."
    ),
    "key_expired": "This key expired on {date}. Please create a new one. Nothing was saved.",
    "key_missing_categories": (
        "The key lacks required categories: {categories}. Create a key with Content, Analytics, "
        "Marketplace and Statistics. Nothing was saved."
    ),
    "key_rejected": (
        "WB rejected the key (category “{category}”). It may have been deleted or blocked. "
        "Nothing was saved."
    ),
    "key_wb_unavailable": (
        "Could not check the key: WB is not answering right now. Try again in a few minutes. "
        "Nothing was saved."
    ),
    "key_saved": (
        "Key saved (encrypted).\nType: {token_type}\nCategories: {categories}\nValid until: {expires}"
    ),
    "key_replaced": (
        "Key replaced (encrypted).\nType: {token_type}\nCategories: {categories}\n"
        "Valid until: {expires}"
    ),
    "key_not_read_only": (
        "This key allows writing. A read-only key is all I need, and it is safer."
    ),
    "key_base_note": (
        "This is a Base token: WB lets it read orders once per 3 hours and the WB warehouses "
        "report 4 times per hour. So WB warehouse stock takes about 30 minutes to refresh and "
        "orders refresh at most every 3 hours; every report says how fresh each part is. "
        "A Personal token refreshes faster."
    ),
    "key_next_step": "Now run /sync.",
    "token_type_1": "Base",
    "token_type_2": "Test",
    "token_type_3": "Personal",
    "token_type_4": "Service",
    "category_1": "Content",
    "category_2": "Analytics",
    "category_3": "Prices and discounts",
    "category_4": "Marketplace",
    "category_5": "Statistics",
    "category_6": "Promotion",
    "category_7": "Questions and reviews",
    "category_9": "Buyers chat",
    "category_10": "Supplies",
    "category_11": "Returns",
    "category_12": "Documents",
    "category_13": "Finance",
    "category_16": "Users",
    "read_only": "read-only",
    "sync_no_key": "Connect your WB API key first: /api_key",
    "sync_already_running": "A sync is already running — please wait for it to finish.",
    "sync_paused": "Refreshes are paused by an administrator.",
    "sync_accepted": "Starting a sync…",
    "progress_title": "Sync",
    "progress_title_scheduled": "Scheduled sync",
    "progress_queued": (
        "⏳ Queued: number {place}. Other sellers' syncs are running; yours starts right after."
    ),
    "step_cards": "Product cards",
    "step_fbs_stock": "Stock at your warehouses (FBS)",
    "step_remains": "Stock at WB warehouses (report)",
    "step_orders": "Orders",
    "step_report": "Report",
    "done_title": "Sync finished in {duration}",
    "done_title_partial": "Sync finished in {duration} (some data is from an earlier refresh)",
    "summary_products": "Products: {products} (sizes: {sizes})",
    "summary_fbo": "At WB warehouses (FBO): {units} units",
    "summary_fbs": "At your warehouses (FBS): {units} units",
    "summary_transit": "In transit to buyers: {to_buyers} units, returns in transit: {returns} units",
    "summary_orders": "Orders in {days} days: {orders} (cancelled: {cancelled})",
    "summary_low_title": "Low stock (less than {threshold} days of cover):",
    "summary_low_item": "• {article} — {days} days ({stock} units)",
    "summary_low_more": "…and {count} more",
    "summary_low_none": "Nothing is low on stock (threshold {threshold} days).",
    "summary_ages_title": "Data age:",
    "part_cards": "cards",
    "part_fbs_stock": "FBS",
    "part_remains": "WB warehouses",
    "part_orders": "orders",
    "age_line": "• {part}: {age}",
    "age_line_stale": "• {part}: {age}, refreshes around {when}",
    "age_never": "not received yet",
    "age_now": "just now",
    "age_minutes": "{n} min ago",
    "age_hours": "{n} h {m} min ago",
    "age_days": "{n} days ago",
    "duration_seconds": "{n} s",
    "duration_minutes": "{m} min {s} s",
    "sheet_written": "Google Sheet updated.",
    "sheet_failed": "Google Sheet not updated: {reason}. I'll try again at the next sync.",
    "fail_title": "The sync failed.",
    "fail_key_rejected": (
        "WB rejected the key ({detail}). It may have been deleted, expired or lack a category. "
        "Send a new key: /api_key"
    ),
    "fail_token_type_refused": "WB does not allow this method for your token type ({detail}).",
    "fail_wb_unavailable": "WB is not answering right now ({detail}). Try again later.",
    "fail_wb_bad_response": "WB sent a response I could not read. Try again later.",
    "fail_rate_limited": "WB does not allow the request yet ({detail}); possible after {when}.",
    "fail_no_key": "No WB key connected: /api_key",
    "fail_interrupted": "The sync was interrupted (the bot restarted). Run /sync again.",
    "fail_internal": "Internal error. We know about it; please try again later.",
    "fail_retry": "I'll retry at {when} (attempts left: {left}).",
    "status_title": "Recent syncs:",
    "status_none": "No syncs yet. Run /sync.",
    "status_line": "• {when} — {trigger}, {result}, {duration}",
    "status_line_error": "• {when} — {trigger}, {result}, {duration}: {error}",
    "status_key_title": "WB key:",
    "status_key": "{token_type}, categories: {categories}\nValid until: {expires}",
    "status_key_last_used": "Last successful use: {when}",
    "status_key_never_used": "Not used yet",
    "status_key_invalid": "WB rejected the key: {reason}. Send a new one: /api_key",
    "status_no_key": "No WB key connected: /api_key",
    "trigger_manual": "manual",
    "trigger_scheduled": "scheduled",
    "trigger_retry": "retry",
    "trigger_admin": "admin",
    "trigger_resume": "continued",
    "result_completed": "ok",
    "result_partial": "partial",
    "result_failed": "failed",
    "result_in_progress": "running",
    "result_interrupted": "interrupted",
    "not_private_text": "I work in a private chat: message me directly.",
    "alerts_title": "Stock changes:",
    "alerts_newly_low": "Running low (less than {threshold} days of cover):",
    "alerts_recovered": "Back in stock: {articles}",
    "key_expiring": "Your WB key expires on {date} ({days} days left). Create a new key in your WB account and send it: /api_key",
    "sync_interrupted": "A sync was interrupted by a bot restart. The next one will run normally; you can start /sync.",
    "fail_schedule_paused": "Automatic refreshes are paused until a new key arrives.",
    "fail_final": "No retries left. The next sync runs on schedule, or start /sync.",
    "schedule_now": "Schedule: {words} ({tz}).",
    "schedule_off_now": "Automatic refreshes are off.",
    "schedule_next": "Next runs: {runs}",
    "schedule_notify": "Messages about scheduled refreshes: {mode}.",
    "notify_all": "every refresh",
    "notify_changes": "only alerts and changes",
    "notify_silent": "only errors",
    "schedule_usage": "Set: /schedule <cron>, e.g. /schedule 0 */6 * * * (every 6 hours).\nTimezone: /schedule tz Asia/Novosibirsk\nMessages: /schedule notify all | changes | silent\nTurn off: /schedule off",
    "schedule_set": "Done. Schedule: {words} ({tz}).",
    "schedule_turned_off": "Automatic refreshes are off. Turn them on again: /schedule 0 */6 * * *",
    "schedule_slow_parts": "Mind WB's limits for your key: {parts}.",
    "schedule_slow_part": "{part} will refresh at most {interval}",
    "slow_part_orders": "orders",
    "slow_part_remains": "WB warehouse stock",
    "schedule_invalid": "I can't read the schedule “{expr}”: {reason}. It needs 5 fields: minute hour day month weekday. Example: /schedule 0 */6 * * * — every 6 hours.",
    "cron_field_count": "5 fields are needed, this has {count}",
    "cron_bad_value": "the {field} field's value “{value}” is not allowed ({low}–{high})",
    "cron_bad_value_plain": "the {field} field's value “{value}” is not allowed",
    "cron_day_and_weekday": "day of month and weekday cannot both be set",
    "cron_never_runs": "this schedule never runs",
    "cron_too_frequent": "too often — at most once every 5 minutes",
    "cron_field_minute": "minute",
    "cron_field_hour": "hour",
    "cron_field_day": "day",
    "cron_field_month": "month",
    "cron_field_weekday": "weekday",
    "schedule_tz_set": "Timezone: {tz}. Schedule: {words}.",
    "schedule_tz_invalid": "I don't know the timezone “{tz}”. Example: /schedule tz Europe/Moscow or /schedule tz Asia/Novosibirsk.",
    "schedule_notify_set": "Messages about scheduled refreshes: {mode}.",
    "schedule_notify_invalid": "Choose: /schedule notify all (every refresh), changes (only alerts and changes) or silent (only errors).",
    "schedule_needs_key": "Connect your WB API key first: /api_key",
    "schedule_key_paused": "Automatic refreshes are paused: WB rejected the key. Send a new one: /api_key",
    "button_hourly": "Every hour",
    "button_every_6h": "Every 6 hours",
    "button_daily_9": "Daily at 09:00",
    "button_off": "Turn off",
    "threshold_now": "Low-stock threshold: {days} days. Change it: /threshold <days>, e.g. /threshold 10",
    "threshold_set": "Done: an item is low when it has less than {days} days of cover.",
    "threshold_invalid": "The threshold is a whole number of days from 1 to 365, e.g. /threshold 10.",
    "threshold_needs_start": "Press /start first.",
    "key_schedule_set": "Automatic refreshes: {words}. Change: /schedule",
    "sheet_no_tenant": "Press /start first, then link the sheet.",
    "sheet_linked": (
        "Sheet “{title}” linked: {url}\n"
        "After every sync I rewrite its “Сводка” (summary) and “По размерам” (by size) tabs; "
        "other tabs are left alone. {email} needs Editor access — with Viewer access I cannot "
        "write.\nFill it now: /sync"
    ),
    "sheet_bad_link": (
        "That doesn't look like a Google Sheets link. Send a link like "
        "https://docs.google.com/spreadsheets/d/… (or its id): /sheet <link>. "
        "To unlink: /sheet off. Nothing was saved."
    ),
    "sheet_not_shared": (
        "I have no access to this sheet. Open its Share settings, add {email} as an Editor and "
        "send /sheet again. Nothing was saved."
    ),
    "sheet_not_found": (
        "No sheet was found at that address. Check the link: copy it from the address bar of the "
        "open sheet. Nothing was saved."
    ),
    "sheet_unavailable": "Google Sheets is not answering right now. Try again in a few minutes. Nothing was saved.",
    "sheet_not_configured": (
        "Google Sheets export is not set up on this bot (no Google service account) — please tell "
        "the administrator. The Excel report is always available: /export. Nothing was saved."
    ),
    "sheet_rejected": (
        "Google refused the request for this document. Make sure it is a Google Sheet, not an "
        "Excel file uploaded to Drive (File → Save as Google Sheets). Nothing was saved."
    ),
    "sheet_internal": "Could not check the sheet because of an internal error. Try again later. Nothing was saved.",
    "sheet_status_linked": "Google Sheet: {url}",
    "sheet_status_written": "Last written: {when}.",
    "sheet_status_never_written": "Nothing written yet — run /sync.",
    "sheet_status_failed": "The last write failed: {reason}.",
    "sheet_status_manage": "Replace: /sheet <link>, unlink: /sheet off",
    "sheet_status_not_linked": (
        "No Google Sheet linked. To link one:\n"
        "1. Create a spreadsheet in Google Sheets.\n"
        "2. In its Share settings, add {email} as an Editor.\n"
        "3. Send /sheet <link to the sheet>.\n"
        "After every sync I will rewrite its “Сводка” and “По размерам” tabs."
    ),
    "sheet_status_not_configured": (
        "Google Sheets export is not set up on this bot (no Google service account). "
        "Excel report: /export"
    ),
    "sheet_off": "Sheet unlinked: I will not write to it any more. The sheet and its data stay yours.",
    "sheet_off_none": "No Google Sheet is linked.",
    "sheet_reason_not_shared": "no write access — give the bot's service account Editor access (/sheet)",
    "sheet_reason_not_found": "the sheet was not found — it may have been deleted (/sheet)",
    "sheet_reason_unavailable": "Google Sheets is not answering",
    "sheet_reason_not_configured": "Google Sheets export is not set up on the bot",
    "sheet_reason_rejected": "Google refused the request",
    "sheet_reason_unlinked": "the sheet was unlinked",
    "sheet_reason_internal": "an internal error",
    "export_caption": "Stock as of {when}: tabs “Сводка” (summary) and “По размерам” (by size).",
    "export_no_report": "No report yet: run /sync, and once it finishes I can send the file.",
    "export_failed": "Could not send the file. Please try again later.",
    "throttle_sync_wait": "A sync was started just now. You can start the next one in {seconds} s.",
    "throttle_too_many": "Too many messages in a row — I'll skip them for a few seconds. Please wait a little and try again.",
    "error_generic": "Something went wrong while handling your message. We know about it; please try again a bit later. Commands: /help",
    "button_unknown": "This button is outdated or not available. Commands: /help",
    "admin_overview": (
        "Service overview\n"
        "Sellers: {total} (active {active}, paused {paused}, with a key {with_key})\n"
        "Keys expiring within 7 days: {expiring}\n"
        "Syncs in 24 h: {ok} ok, {failed} failed; running now: {running}, queued: {queued}\n"
        "Database: {backend}\n"
        "Version: {version}, uptime: {uptime}"
    ),
    "admin_uptime_days": "{d} d {h} h",
    "admin_uptime_hours": "{h} h {m} min",
    "admin_next_runs_title": "Next scheduled runs:",
    "admin_scheduler_off": "The scheduler is not running in this process.",
    "admin_jobs_none": "No scheduled jobs.",
    "admin_jobs_title": "Scheduled jobs ({count}):",
    "admin_job_line": "• {when} — {job}",
    "admin_job_paused": "paused",
    "admin_jobs_more": "…and {count} more",
    "admin_health": "Last health check: {when} — {result}",
    "admin_health_none": "Last health check: none yet",
    "admin_health_ok": "ok",
    "admin_health_bad": "problems: {problems}",
    "admin_actions_title": "Recent admin actions:",
    "admin_actions_none": "No admin actions yet.",
    "admin_action_line": "• {when} — {admin}: {action} {target}",
    "admin_action_pause": "pause",
    "admin_action_resume": "resume",
    "admin_action_force_sync": "sync now",
    "admin_action_broadcast": "broadcast",
    "admin_tenants_empty": "No sellers yet.",
    "admin_tenants_title": "Sellers: {total} (page {page} of {pages})",
    "admin_tenant_row": "#{id} · chat {chat} · {name} · {last}",
    "admin_last_sync": "{result} {when}",
    "admin_never_synced": "no syncs yet",
    "admin_flag_inactive": "blocked the bot",
    "admin_flag_paused": "paused",
    "admin_flag_no_key": "no key",
    "admin_prev": "« Back",
    "admin_next": "Next »",
    "admin_bad_button": "This button is out of date. Run the command again.",
    "admin_usage": "Usage: /{command} <id> — the seller's number from /tenants.",
    "admin_not_found": "There is no seller #{id}. See /tenants.",
    "admin_tenant_title": "Seller #{id}: {name}",
    "admin_tenant_chat": "Chat {chat}, user {user} ({user_id}), language {language}, time zone {tz}",
    "admin_tenant_state": "State: {state}",
    "admin_state_active": "active",
    "admin_state_paused": "paused by an admin",
    "admin_state_inactive": "inactive (blocked the bot)",
    "admin_tenant_schedule": "Schedule: {schedule}",
    "admin_schedule_off": "off",
    "admin_tenant_next_run": "Next scheduled run: {when}",
    "admin_tenant_key": "Key: fingerprint {fingerprint}, {token_type}, categories: {categories}, valid until {expires}",
    "admin_tenant_no_key": "Key: none",
    "admin_tenant_key_invalid": "WB rejected the key: {reason}",
    "admin_tenant_no_syncs": "No syncs yet.",
    "admin_paused": "Seller #{id} is paused: no scheduled or manual syncs until /resume {id}.",
    "admin_already_paused": "Seller #{id} is already paused.",
    "admin_resumed": "Seller #{id} is resumed: scheduled and manual syncs run again.",
    "admin_not_paused": "Seller #{id} is not paused.",
    "admin_seller_told": "The seller has been told.",
    "admin_seller_not_told": "The seller could not be told (the chat is unavailable).",
    "seller_paused_notice": "An administrator has paused the refreshes of your stock: scheduled and manual syncs will not run until they are resumed.",
    "seller_resumed_notice": "The refreshes of your stock are running again. /sync refreshes now.",
    "admin_force_started": "A sync of seller #{id} has started; the seller sees its progress.",
    "admin_force_running": "A sync of seller #{id} is already running.",
    "admin_force_no_key": "Seller #{id} has no WB key: there is nothing to sync.",
    "admin_broadcast_usage": "Usage: /broadcast <text> — after you confirm, the text goes to every active seller.",
    "admin_broadcast_none": "There are no active sellers to send to.",
    "admin_broadcast_confirm": "Send this message to {count} active sellers?\n\n{text}",
    "admin_yes": "Send",
    "admin_no": "Cancel",
    "admin_broadcast_cancelled": "Broadcast cancelled: nothing was sent.",
    "admin_broadcast_gone": "This broadcast has already been sent or cancelled.",
    "admin_broadcast_sending": "Sending…",
    "admin_broadcast_progress": "Sending… {done} of {total} (delivered {delivered}, failed {failed})",
    "admin_broadcast_done": "Broadcast finished: delivered {delivered}, failed {failed} of {total}.",
    "admin_broadcast_stopped": "Broadcast stopped by a shutdown after {done} of {total}: delivered {delivered}, failed {failed}.",
    "admin_broadcast_blocked": "Blocked the bot (now inactive): {count}.",
    "error_key_rejected": "WB rejected the key",
    "error_token_type_refused": "method not allowed for this token type",
    "error_wb_unavailable": "WB did not answer",
    "error_wb_bad_response": "unreadable WB answer",
    "error_rate_limited": "WB's limits did not allow reading the data",
    "error_no_key": "no key",
    "error_interrupted": "interrupted by a bot restart",
    "error_internal": "internal error",
}
