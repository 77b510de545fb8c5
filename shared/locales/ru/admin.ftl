# Admin commands (only admins see these) and the notice a banned user gets.
# Job kinds, statuses and audit actions are shown as their codes: admins search logs by them.

## A banned user

you-are-banned = Доступ к боту для вас закрыт, поэтому сообщения больше не обрабатываются. Если это ошибка, свяжитесь с администратором бота.

## Usage

admin-usage = { $command ->
    [user] Использование: /user <telegram id | @username | #внутренний id>
    [grant] Использование: /grant <пользователь> <кредиты> <причина>
    [debit] Использование: /debit <пользователь> <кредиты> <причина>
    [ban] Использование: /ban <пользователь> <причина>
    [unban] Использование: /unban <пользователь>
    [broadcast] Использование: ответьте на сообщение командой /broadcast [lang=ru|en] [active=<дней>] [paid]
   *[jobs] Использование: /jobs failed
}
admin-user-not-found = Пользователь { $query } не найден.

## /stats

admin-stats =
    📊 Статистика (сегодня / 7 дн. / 30 дн.)
    Пользователи: { $users_total } всего
    Новые: { $new_today } / { $new_week } / { $new_month }
    Активные: { $active_today } / { $active_week } / { $active_month }

    Задания сегодня:
    { $jobs }
    Сбои: { $failed_today } / { $failed_week } / { $failed_month }
    Очередь: { $queue_depth }, ждёт дольше всех { $oldest_seconds } с

    Платежи:
    { $revenue }
    Кредиты у пользователей: { $outstanding }
    Открытые резервы: { $open_holds } на { $open_holds_amount } кр.
    Списано кредитов: сегодня { $charged_today }, за месяц { $charged_month }

    Распознано минут: { $stt_today } / { $stt_week } / { $stt_month }
    Картинок: { $images_today } / { $images_week } / { $images_month }
    Расходы на провайдеров (оценка, $): { $spend_today } / { $spend_week } / { $spend_month }
admin-stats-job = • { $kind } { $status }: { $count }
admin-stats-revenue = • { $provider } { $currency }: { $today } / { $week } / { $month }
admin-stats-none = • нет

## /user

admin-user-card =
    👤 { $user }
    Язык: { $language }, с нами с { $since }
    Пригласил: { $referrer }
    Баланс: { $available } кр., в резерве { $held } кр.
    Бесплатно: { $free_time } мин. сегодня, { $free_images } картинок в этом месяце
    { $plan ->
        [none] Тариф: нет
       *[other] { $plan }
    }
    Бан: { $banned ->
        [yes] да — { $ban_reason }
       *[no] нет
    }
    Заблокировал бота: { $blocked ->
        [yes] да
       *[no] нет
    }

    Последние задания:
    { $jobs }

    Последние платежи:
    { $payments }
admin-card-job = • { $when } { $kind } { $status }, { $price } кр.{ $error ->
        [none] {""}
       *[other] {" "}({ $error })
    }
admin-card-payment = • { $when } { $provider } { $amount } { $currency } → { $credits } кр., { $status }
admin-card-none = • нет
admin-nobody = никто

## Buttons

admin-grant-button = ➕ Начислить
admin-ban-button = 🚫 Забанить
admin-unban-button = ✅ Разбанить
admin-confirm-button = Подтвердить
admin-cancel-button = Отмена
admin-retry-button = 🔁 Повторить { $job }

## /grant, /debit

admin-grant-how-to = Чтобы начислить, отправьте: /grant { $user } <кредиты> <причина>
admin-confirm-adjustment = { $kind ->
        [grant] Начислить { $amount } кр. пользователю
       *[debit] Списать { $amount } кр. у пользователя
    } { $user }?
    Сейчас доступно: { $available } кр.
    Причина: { $reason }
admin-adjusted = { $kind ->
        [grant] Начислено { $amount } кр. пользователю
       *[debit] Списано { $amount } кр. у пользователя
    } { $user }. Теперь доступно: { $available } кр.
admin-already-settled = { $status ->
        [done] Уже выполнено, повторно ничего не проведено.
        [cancelled] Уже отменено.
       *[failed] Уже отклонено.
    }
admin-debit-too-large = Нельзя списать { $needed } кр.: у пользователя доступно { $available } кр. Ничего не изменилось.
admin-action-cancelled = Отменено, ничего не изменилось.
admin-action-unknown = Эта кнопка устарела.

## /ban, /unban

admin-banned = { $again ->
        [yes] Пользователь { $user } уже забанен; причина обновлена: { $reason }
       *[no] Пользователь { $user } забанен. Причина: { $reason }
    }{ $jobs ->
        [0] {""}
       *[other] {""}
            Отменено незавершённых заданий: { $jobs }, резервы возвращены.
    }
admin-unbanned = Пользователь { $user } разбанен.
admin-not-banned = Пользователь { $user } не забанен.

## /jobs failed

admin-failed-jobs = Последние неудачные задания:
    { $jobs }
admin-failed-job = • { $job } { $kind } у { $user }, { $when }: { $reason }{ $retried ->
        [none] {""}
       *[other] {" "}→ повторено как { $retried }
    }
admin-no-failed-jobs = Неудачных заданий нет.
admin-retried = Задание { $job } поставлено заново как { $new_job }, в резерве { $price } кр.
admin-retry-already = Это задание уже повторено как { $new_job }.
admin-retry-not-failed = Это задание не в статусе failed — повторять нечего.
admin-retry-banned = Владелец задания забанен — ничего не поставлено.
admin-retry-insufficient = У пользователя не хватает кредитов: нужно { $needed }, доступно { $available }. Ничего не поставлено.

## /audit

admin-audit = Журнал действий{ $user ->
        [none] {""}
       *[other] {" "}— { $user }
    }:
    { $lines }
admin-audit-line = • #{ $id } { $when } { $actor } { $action }{ $target ->
        [none] {""}
       *[other] {" "}→ #{ $target }
    }{ $reason ->
        [none] {""}
       *[other] {" "}«{ $reason }»
    } { $change }
admin-audit-empty = Журнал пуст.

## /broadcast

admin-broadcast-preview =
    ⬆️ Так будет выглядеть ваше сообщение.
    Получателей: { $audience } ({ $segment ->
        [none] все пользователи
       *[other] { $segment }
    }); забаненные и заблокировавшие бота не входят.
    Отправить?
admin-send-button = 📣 Отправить
admin-broadcast-not-copyable = Это сообщение нельзя скопировать (служебные сообщения, счета и викторины не копируются); ничего не отправлено.
admin-broadcast-started = Рассылка началась, получателей: { $recipients }. Когда она закончится, придёт отчёт.
admin-broadcast-already = { $status ->
        [sending] Эта рассылка уже идёт.
        [done] Эта рассылка уже отправлена.
       *[cancelled] Эта рассылка отменена.
    }
admin-broadcast-report =
    📣 Рассылка завершена.
    Доставлено: { $sent }
    Заблокировали бота: { $blocked }
    Ошибки: { $failed }
    Пропущено (забанены или заблокировали бота за это время): { $skipped }

## The command menu in admins' own chats

admin-command-stats = Статистика
admin-command-user = Карточка пользователя
admin-command-grant = Начислить кредиты
admin-command-debit = Списать кредиты
admin-command-ban = Забанить
admin-command-unban = Разбанить
admin-command-jobs = Неудачные задания (/jobs failed)
admin-command-audit = Журнал действий
admin-command-broadcast = Рассылка (ответом на сообщение)

## /paysupport

admin-support-request =
    Вопрос по оплате №{ $request } от { $user }:

    { $question }

    Ответьте на это сообщение (reply) — ответ уйдёт пользователю от имени бота.
admin-support-answer-sent = Ответ отправлен: { $user }.
admin-support-answer-failed = Не удалось доставить ответ ({ $user }): пользователь мог заблокировать бота.
