"""Russian texts (the default language)."""

TEXTS: dict[str, str] = {
    "start_new": (
        "Здравствуйте! Я слежу за остатками вашего магазина на Wildberries: FBO по складам WB, "
        "FBS по вашим складам, заказы и на сколько дней хватит товара.\n\n"
        "Следующий шаг: пришлите API-ключ WB командой /api_key. Нужен ключ с категориями "
        "Контент, Аналитика, Маркетплейс и Статистика (достаточно «Только на чтение»).\n"
        "Все команды: /help"
    ),
    "start_again": (
        "С возвращением! Ваш магазин уже подключён.\n"
        "/sync — обновить остатки сейчас, /status — последние синхронизации. Все команды: /help"
    ),
    "start_again_no_key": (
        "С возвращением! Ключ WB ещё не добавлен: пришлите его командой /api_key.\n"
        "Все команды: /help"
    ),
    "help": (
        "Команды:\n"
        "/api_key <ключ> — подключить или заменить API-ключ WB\n"
        "/sync — обновить остатки сейчас\n"
        "/status — последние синхронизации и состояние ключа\n"
        "/schedule — расписание автообновления\n"
        "/threshold <дни> — порог «мало товара» (по умолчанию 7 дней)\n"
        "/sheet <ссылка> — подключить Google Таблицу\n"
        "/export — выгрузить отчёт в Excel\n"
        "/help — эта справка\n\n"
        "Ключ создаётся в личном кабинете WB: Настройки → Доступ к API. Отметьте категории "
        "Контент, Аналитика, Маркетплейс, Статистика и «Только на чтение»."
    ),
    "cmd_start": "Начать работу",
    "cmd_help": "Справка",
    "cmd_api_key": "Подключить API-ключ WB",
    "cmd_sync": "Обновить остатки сейчас",
    "cmd_status": "Последние синхронизации",
    "cmd_schedule": "Расписание обновлений",
    "cmd_threshold": "Порог «мало товара»",
    "cmd_sheet": "Google Таблица",
    "cmd_export": "Выгрузка в Excel",
    "unknown_command": "Не знаю такой команды. Список команд: /help",
    "private_only": (
        "Эта команда работает только в личном чате с ботом: API-ключ нельзя показывать в группе. "
        "Напишите мне в личные сообщения."
    ),
    "key_ask": (
        "Пришлите API-ключ WB следующим сообщением. Я удалю сообщение с ключом сразу после "
        "получения.\nОтмена: /cancel"
    ),
    "key_cancelled": "Хорошо, ключ не меняю.",
    "nothing_to_cancel": "Нечего отменять.",
    "key_checking": "Проверяю ключ…",
    "key_deleted_note": "Сообщение с ключом удалено.",
    "key_not_deleted_note": (
        "Не удалось удалить сообщение с ключом — пожалуйста, удалите его сами."
    ),
    "key_malformed": (
        "Это не похоже на API-ключ WB: ключ — длинная строка из трёх частей, разделённых "
        "точками. Скопируйте его целиком из кабинета WB (Настройки → Доступ к API). "
        "Ничего не сохранено."
    ),
    "key_expired": "Срок действия этого ключа истёк {date}. Создайте новый ключ. Ничего не сохранено.",
    "key_missing_categories": (
        "У ключа нет нужных категорий: {categories}. Создайте ключ с категориями Контент, "
        "Аналитика, Маркетплейс и Статистика. Ничего не сохранено."
    ),
    "key_rejected": (
        "WB отклонил ключ (категория «{category}»). Возможно, ключ удалён или заблокирован. "
        "Ничего не сохранено."
    ),
    "key_wb_unavailable": (
        "Не удалось проверить ключ: WB сейчас не отвечает. Попробуйте через несколько минут. "
        "Ничего не сохранено."
    ),
    "key_saved": (
        "Ключ сохранён (в зашифрованном виде).\n"
        "Тип: {token_type}\nКатегории: {categories}\nДействует до: {expires}"
    ),
    "key_replaced": (
        "Ключ заменён (в зашифрованном виде).\n"
        "Тип: {token_type}\nКатегории: {categories}\nДействует до: {expires}"
    ),
    "key_not_read_only": (
        "Ключ даёт право на запись. Мне достаточно ключа «Только на чтение» — так безопаснее."
    ),
    "key_base_note": (
        "Это базовый токен: WB разрешает ему читать заказы раз в 3 часа и отчёт по складам WB "
        "4 раза в час. Поэтому остатки на складах WB обновляются примерно за 30 минут, а заказы — "
        "не чаще раза в 3 часа; в каждом отчёте я укажу, насколько свежа каждая часть данных. "
        "Персональный токен обновляется быстрее."
    ),
    "key_next_step": "Теперь запустите /sync.",
    "token_type_1": "базовый",
    "token_type_2": "тестовый",
    "token_type_3": "персональный",
    "token_type_4": "сервисный",
    "category_1": "Контент",
    "category_2": "Аналитика",
    "category_3": "Цены и скидки",
    "category_4": "Маркетплейс",
    "category_5": "Статистика",
    "category_6": "Продвижение",
    "category_7": "Вопросы и отзывы",
    "category_9": "Чат с покупателями",
    "category_10": "Поставки",
    "category_11": "Возвраты",
    "category_12": "Документы",
    "category_13": "Финансы",
    "category_16": "Пользователи",
    "read_only": "только чтение",
    "sync_no_key": "Сначала подключите API-ключ WB: /api_key",
    "sync_already_running": "Синхронизация уже идёт — дождитесь её окончания.",
    "sync_paused": "Обновления приостановлены администратором.",
    "sync_accepted": "Запускаю синхронизацию…",
    "progress_title": "Синхронизация",
    "progress_title_scheduled": "Синхронизация по расписанию",
    "progress_queued": (
        "⏳ В очереди: {place}-я. Сейчас идут синхронизации других продавцов, "
        "ваша начнётся сразу после них."
    ),
    "step_cards": "Карточки товаров",
    "step_fbs_stock": "Остатки на ваших складах (FBS)",
    "step_remains": "Остатки на складах WB (отчёт)",
    "step_orders": "Заказы",
    "step_report": "Отчёт",
    "done_title": "Синхронизация завершена за {duration}",
    "done_title_partial": "Синхронизация завершена за {duration} (часть данных из прошлого обновления)",
    "summary_products": "Товаров: {products} (размеров: {sizes})",
    "summary_fbo": "На складах WB (FBO): {units} шт.",
    "summary_fbs": "На ваших складах (FBS): {units} шт.",
    "summary_transit": "В пути к покупателям: {to_buyers} шт., возвраты в пути: {returns} шт.",
    "summary_orders": "Заказов за {days} дн.: {orders} (отменено: {cancelled})",
    "summary_low_title": "Мало товара (запаса меньше чем на {threshold} дн.):",
    "summary_low_item": "• {article} — {days} дн. ({stock} шт.)",
    "summary_low_more": "…и ещё {count}",
    "summary_low_none": "Товаров с малым запасом нет (порог {threshold} дн.).",
    "summary_ages_title": "Свежесть данных:",
    "part_cards": "карточки",
    "part_fbs_stock": "FBS",
    "part_remains": "склады WB",
    "part_orders": "заказы",
    "age_line": "• {part}: {age}",
    "age_line_stale": "• {part}: {age}, обновится около {when}",
    "age_never": "ещё не получены",
    "age_now": "только что",
    "age_minutes": "{n} мин назад",
    "age_hours": "{n} ч {m} мин назад",
    "age_days": "{n} дн. назад",
    "duration_seconds": "{n} с",
    "duration_minutes": "{m} мин {s} с",
    "sheet_written": "Google Таблица обновлена.",
    "sheet_failed": "Google Таблица не обновлена: {reason}. Попробую при следующей синхронизации.",
    "fail_title": "Синхронизация не удалась.",
    "fail_key_rejected": (
        "WB отклонил ключ ({detail}). Возможно, он удалён, истёк или у него нет нужных категорий. "
        "Пришлите новый ключ: /api_key"
    ),
    "fail_token_type_refused": "WB не разрешает этот метод для вашего типа токена ({detail}).",
    "fail_wb_unavailable": "WB сейчас не отвечает ({detail}). Попробуйте позже.",
    "fail_wb_bad_response": "WB прислал ответ, который не удалось прочитать. Попробуйте позже.",
    "fail_rate_limited": "WB пока не разрешает запрос ({detail}); можно будет после {when}.",
    "fail_no_key": "Ключ WB не подключён: /api_key",
    "fail_interrupted": "Синхронизация прервалась (перезапуск бота). Запустите /sync ещё раз.",
    "fail_internal": "Внутренняя ошибка. Мы уже знаем о ней; попробуйте ещё раз позже.",
    "fail_retry": "Повторю попытку в {when} (осталось попыток: {left}).",
    "status_title": "Последние синхронизации:",
    "status_none": "Синхронизаций ещё не было. Запустите /sync.",
    "status_line": "• {when} — {trigger}, {result}, {duration}",
    "status_line_error": "• {when} — {trigger}, {result}, {duration}: {error}",
    "status_key_title": "Ключ WB:",
    "status_key": "{token_type}, категории: {categories}\nДействует до: {expires}",
    "status_key_last_used": "Последнее успешное использование: {when}",
    "status_key_never_used": "Ещё не использовался",
    "status_key_invalid": "WB отклонил ключ: {reason}. Пришлите новый: /api_key",
    "status_no_key": "Ключ WB не подключён: /api_key",
    "trigger_manual": "вручную",
    "trigger_scheduled": "по расписанию",
    "trigger_retry": "повтор",
    "trigger_admin": "администратор",
    "trigger_resume": "продолжение",
    "result_completed": "успешно",
    "result_partial": "частично",
    "result_failed": "ошибка",
    "result_in_progress": "идёт",
    "result_interrupted": "прервана",
    "not_private_text": "Я работаю в личном чате: напишите мне напрямую.",
    "alerts_title": "Изменения запасов:",
    "alerts_newly_low": "Заканчивается (запаса меньше чем на {threshold} дн.):",
    "alerts_recovered": "Снова в достатке: {articles}",
    "key_expiring": "Ключ WB истекает {date} (осталось дней: {days}). Создайте новый ключ в кабинете WB и пришлите его: /api_key",
    "sync_interrupted": "Синхронизация прервалась из-за перезапуска бота. Следующая пройдёт как обычно; можно запустить /sync.",
    "fail_schedule_paused": "Автообновление приостановлено до нового ключа.",
    "fail_final": "Попытки исчерпаны. Следующая синхронизация — по расписанию, или запустите /sync.",
    "schedule_now": "Расписание: {words} ({tz}).",
    "schedule_off_now": "Автообновление выключено.",
    "schedule_next": "Ближайшие запуски: {runs}",
    "schedule_notify": "Сообщения о плановых обновлениях: {mode}.",
    "notify_all": "каждое обновление",
    "notify_changes": "только тревоги и изменения",
    "notify_silent": "только ошибки",
    "schedule_usage": "Задать: /schedule <cron>, например /schedule 0 */6 * * * (каждые 6 часов).\nЧасовой пояс: /schedule tz Asia/Novosibirsk\nСообщения: /schedule notify all | changes | silent\nВыключить: /schedule off",
    "schedule_set": "Готово. Расписание: {words} ({tz}).",
    "schedule_turned_off": "Автообновление выключено. Включить снова: /schedule 0 */6 * * *",
    "schedule_slow_parts": "Учтите ограничения WB для вашего ключа: {parts}.",
    "schedule_slow_part": "{part} будут обновляться не чаще чем {interval}",
    "slow_part_orders": "заказы",
    "slow_part_remains": "остатки на складах WB",
    "schedule_invalid": "Не понимаю расписание «{expr}»: {reason}. Нужны 5 полей: минута час день месяц день_недели. Пример: /schedule 0 */6 * * * — каждые 6 часов.",
    "cron_field_count": "нужно 5 полей, а здесь {count}",
    "cron_bad_value": "в поле «{field}» значение «{value}» недопустимо (разрешено {low}–{high})",
    "cron_bad_value_plain": "в поле «{field}» недопустимое значение «{value}»",
    "cron_day_and_weekday": "нельзя одновременно задавать день месяца и день недели",
    "cron_never_runs": "такое расписание никогда не сработает",
    "cron_too_frequent": "слишком часто — не чаще раза в 5 минут",
    "cron_field_minute": "минута",
    "cron_field_hour": "час",
    "cron_field_day": "день",
    "cron_field_month": "месяц",
    "cron_field_weekday": "день недели",
    "schedule_tz_set": "Часовой пояс: {tz}. Расписание: {words}.",
    "schedule_tz_invalid": "Не знаю часовой пояс «{tz}». Пример: /schedule tz Europe/Moscow или /schedule tz Asia/Novosibirsk.",
    "schedule_notify_set": "Сообщения о плановых обновлениях: {mode}.",
    "schedule_notify_invalid": "Выберите: /schedule notify all (каждое обновление), changes (только тревоги и изменения) или silent (только ошибки).",
    "schedule_needs_key": "Сначала подключите API-ключ WB: /api_key",
    "schedule_key_paused": "Автообновление приостановлено: WB отклонил ключ. Пришлите новый: /api_key",
    "button_hourly": "Каждый час",
    "button_every_6h": "Каждые 6 часов",
    "button_daily_9": "Каждый день в 09:00",
    "button_off": "Выключить",
    "threshold_now": "Порог «мало товара»: {days} дн. Изменить: /threshold <дни>, например /threshold 10",
    "threshold_set": "Готово: товар считается заканчивающимся, если запаса меньше чем на {days} дн.",
    "threshold_invalid": "Порог — целое число дней от 1 до 365, например /threshold 10.",
    "threshold_needs_start": "Сначала нажмите /start.",
    "key_schedule_set": "Автообновление: {words}. Изменить: /schedule",
    "sheet_no_tenant": "Сначала нажмите /start, затем подключите таблицу.",
    "sheet_linked": (
        "Таблица «{title}» подключена: {url}\n"
        "После каждой синхронизации я перезаписываю в ней листы «Сводка» и «По размерам»; "
        "другие листы не трогаю. У {email} должны быть права редактора — с правами читателя "
        "записать не получится.\nЗаполнить сейчас: /sync"
    ),
    "sheet_bad_link": (
        "Это не похоже на ссылку на Google Таблицу. Пришлите ссылку вида "
        "https://docs.google.com/spreadsheets/d/… (или её идентификатор): /sheet <ссылка>. "
        "Отключить таблицу: /sheet off. Ничего не сохранено."
    ),
    "sheet_not_shared": (
        "У меня нет доступа к этой таблице. Откройте в ней «Настройки доступа», добавьте {email} "
        "с правами редактора и пришлите /sheet ещё раз. Ничего не сохранено."
    ),
    "sheet_not_found": (
        "Таблица с таким адресом не найдена. Проверьте ссылку: скопируйте её из адресной строки "
        "открытой таблицы. Ничего не сохранено."
    ),
    "sheet_unavailable": (
        "Google Таблицы сейчас не отвечают. Попробуйте через несколько минут. Ничего не сохранено."
    ),
    "sheet_not_configured": (
        "Выгрузка в Google Таблицы на этом боте не настроена (нет сервисного аккаунта Google) — "
        "сообщите администратору. Отчёт в Excel доступен всегда: /export. Ничего не сохранено."
    ),
    "sheet_rejected": (
        "Google отклонил запрос к этому документу. Убедитесь, что это Google Таблица, а не файл "
        "Excel, загруженный на Диск (Файл → Сохранить как Google Таблицу). Ничего не сохранено."
    ),
    "sheet_internal": "Не удалось проверить таблицу из-за внутренней ошибки. Попробуйте позже. Ничего не сохранено.",
    "sheet_status_linked": "Google Таблица: {url}",
    "sheet_status_written": "Последняя запись: {when}.",
    "sheet_status_never_written": "В неё ещё ничего не записано — запустите /sync.",
    "sheet_status_failed": "Последняя попытка записи не удалась: {reason}.",
    "sheet_status_manage": "Заменить: /sheet <ссылка>, отключить: /sheet off",
    "sheet_status_not_linked": (
        "Google Таблица не подключена. Как подключить:\n"
        "1. Создайте таблицу в Google Таблицах.\n"
        "2. В «Настройках доступа» добавьте {email} с правами редактора.\n"
        "3. Пришлите /sheet <ссылка на таблицу>.\n"
        "После каждой синхронизации я буду перезаписывать в ней листы «Сводка» и «По размерам»."
    ),
    "sheet_status_not_configured": (
        "Выгрузка в Google Таблицы на этом боте не настроена (нет сервисного аккаунта Google). "
        "Отчёт в Excel: /export"
    ),
    "sheet_off": "Таблица отключена: я больше не буду в неё писать. Сама таблица и данные в ней остаются у вас.",
    "sheet_off_none": "Google Таблица и так не подключена.",
    "sheet_reason_not_shared": "нет прав на запись — дайте сервисному аккаунту бота права редактора (/sheet)",
    "sheet_reason_not_found": "таблица не найдена — возможно, она удалена (/sheet)",
    "sheet_reason_unavailable": "Google Таблицы не отвечают",
    "sheet_reason_not_configured": "выгрузка в Google Таблицы на боте не настроена",
    "sheet_reason_rejected": "Google отклонил запрос",
    "sheet_reason_unlinked": "таблица отключена",
    "sheet_reason_internal": "внутренняя ошибка",
    "export_caption": "Остатки на {when}: листы «Сводка» и «По размерам».",
    "export_no_report": "Отчёта ещё нет: запустите /sync, и после синхронизации я смогу прислать файл.",
    "export_failed": "Не удалось отправить файл. Попробуйте ещё раз позже.",
    "throttle_sync_wait": "Синхронизация только что запускалась. Следующую можно запустить через {seconds} с.",
    "throttle_too_many": "Слишком много сообщений подряд — несколько секунд я их пропущу. Подождите немного и повторите.",
    "error_generic": "Что-то пошло не так при обработке сообщения. Мы уже знаем об этом; попробуйте ещё раз чуть позже. Команды: /help",
    "button_unknown": "Эта кнопка устарела или недоступна. Команды: /help",
    "admin_overview": (
        "Обзор сервиса\n"
        "Продавцов: {total} (активных {active}, на паузе {paused}, с ключом {with_key})\n"
        "Ключей, истекающих в ближайшие 7 дней: {expiring}\n"
        "Синхронизаций за 24 ч: успешных {ok}, неудачных {failed}; идёт сейчас: {running}, в очереди: {queued}\n"
        "База данных: {backend}\n"
        "Версия: {version}, работает: {uptime}"
    ),
    "admin_uptime_days": "{d} дн. {h} ч",
    "admin_uptime_hours": "{h} ч {m} мин",
    "admin_next_runs_title": "Ближайшие запуски по расписанию:",
    "admin_scheduler_off": "Планировщик в этом процессе не запущен.",
    "admin_jobs_none": "Заданий в расписании нет.",
    "admin_jobs_title": "Задания в расписании ({count}):",
    "admin_job_line": "• {when} — {job}",
    "admin_job_paused": "на паузе",
    "admin_jobs_more": "…и ещё {count}",
    "admin_health": "Последняя проверка здоровья: {when} — {result}",
    "admin_health_none": "Последняя проверка здоровья: ещё не было",
    "admin_health_ok": "всё в порядке",
    "admin_health_bad": "проблемы: {problems}",
    "admin_actions_title": "Последние действия администраторов:",
    "admin_actions_none": "Действий администраторов ещё не было.",
    "admin_action_line": "• {when} — {admin}: {action} {target}",
    "admin_action_pause": "пауза",
    "admin_action_resume": "возобновление",
    "admin_action_force_sync": "синхронизация",
    "admin_action_broadcast": "рассылка",
    "admin_tenants_empty": "Продавцов пока нет.",
    "admin_tenants_title": "Продавцов: {total} (страница {page} из {pages})",
    "admin_tenant_row": "#{id} · чат {chat} · {name} · {last}",
    "admin_last_sync": "{result} {when}",
    "admin_never_synced": "синхронизаций не было",
    "admin_flag_inactive": "заблокировал бота",
    "admin_flag_paused": "на паузе",
    "admin_flag_no_key": "нет ключа",
    "admin_prev": "« Назад",
    "admin_next": "Дальше »",
    "admin_bad_button": "Эта кнопка устарела. Вызовите команду ещё раз.",
    "admin_usage": "Формат: /{command} <номер> — номер продавца из /tenants.",
    "admin_not_found": "Продавца №{id} нет. Список: /tenants.",
    "admin_tenant_title": "Продавец №{id}: {name}",
    "admin_tenant_chat": "Чат {chat}, пользователь {user} ({user_id}), язык {language}, часовой пояс {tz}",
    "admin_tenant_state": "Состояние: {state}",
    "admin_state_active": "активен",
    "admin_state_paused": "на паузе (администратор)",
    "admin_state_inactive": "неактивен (заблокировал бота)",
    "admin_tenant_schedule": "Расписание: {schedule}",
    "admin_schedule_off": "выключено",
    "admin_tenant_next_run": "Следующий запуск по расписанию: {when}",
    "admin_tenant_key": "Ключ: отпечаток {fingerprint}, {token_type}, категории: {categories}, действует до {expires}",
    "admin_tenant_no_key": "Ключ: нет",
    "admin_tenant_key_invalid": "WB отклонил ключ: {reason}",
    "admin_tenant_no_syncs": "Синхронизаций ещё не было.",
    "admin_paused": "Продавец №{id} на паузе: синхронизации по расписанию и вручную не запускаются до /resume {id}.",
    "admin_already_paused": "Продавец №{id} уже на паузе.",
    "admin_resumed": "Продавец №{id} снят с паузы: синхронизации снова запускаются.",
    "admin_not_paused": "Продавец №{id} не на паузе.",
    "admin_seller_told": "Продавцу отправлено уведомление.",
    "admin_seller_not_told": "Не удалось уведомить продавца (чат недоступен).",
    "seller_paused_notice": "Администратор приостановил обновление ваших остатков: синхронизации по расписанию и вручную не будут запускаться, пока их не возобновят.",
    "seller_resumed_notice": "Обновление ваших остатков снова работает. /sync — обновить сейчас.",
    "admin_force_started": "Синхронизация продавца №{id} запущена; продавец видит её ход.",
    "admin_force_running": "Синхронизация продавца №{id} уже идёт.",
    "admin_force_no_key": "У продавца №{id} нет ключа WB: синхронизировать нечего.",
    "admin_broadcast_usage": "Формат: /broadcast <текст> — после подтверждения текст получат все активные продавцы.",
    "admin_broadcast_none": "Активных продавцов нет — рассылать некому.",
    "admin_broadcast_confirm": "Отправить это сообщение {count} активным продавцам?\n\n{text}",
    "admin_yes": "Отправить",
    "admin_no": "Отмена",
    "admin_broadcast_cancelled": "Рассылка отменена: ничего не отправлено.",
    "admin_broadcast_gone": "Эта рассылка уже отправлена или отменена.",
    "admin_broadcast_sending": "Отправляю…",
    "admin_broadcast_progress": "Отправляю… {done} из {total} (доставлено {delivered}, не доставлено {failed})",
    "admin_broadcast_done": "Рассылка завершена: доставлено {delivered}, не доставлено {failed} из {total}.",
    "admin_broadcast_stopped": "Рассылка остановлена из-за перезапуска после {done} из {total}: доставлено {delivered}, не доставлено {failed}.",
    "admin_broadcast_blocked": "Заблокировали бота (теперь неактивны): {count}.",
    "error_key_rejected": "WB отклонил ключ",
    "error_token_type_refused": "метод недоступен для этого типа токена",
    "error_wb_unavailable": "WB не отвечал",
    "error_wb_bad_response": "непонятный ответ WB",
    "error_rate_limited": "лимиты WB не позволили прочитать данные",
    "error_no_key": "нет ключа",
    "error_interrupted": "прервана перезапуском бота",
    "error_internal": "внутренняя ошибка",
}
