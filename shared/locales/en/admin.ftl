# Admin commands (only admins see these) and the notice a banned user gets.
# Job kinds, statuses and audit actions are shown as their codes: admins search logs by them.

## A banned user

you-are-banned = Your access to this bot has been closed, so your messages are no longer handled. If you think this is a mistake, please contact the bot's administrator.

## Usage

admin-usage = { $command ->
    [user] Usage: /user <telegram id | @username | #internal id>
    [grant] Usage: /grant <user> <credits> <reason>
    [debit] Usage: /debit <user> <credits> <reason>
    [ban] Usage: /ban <user> <reason>
    [unban] Usage: /unban <user>
    [broadcast] Usage: reply to a message with /broadcast [lang=ru|en] [active=<days>] [paid]
   *[jobs] Usage: /jobs failed
}
admin-user-not-found = No user { $query }.

## /stats

admin-stats =
    📊 Stats (today / 7 d / 30 d)
    Users: { $users_total } in all
    New: { $new_today } / { $new_week } / { $new_month }
    Active: { $active_today } / { $active_week } / { $active_month }

    Jobs today:
    { $jobs }
    Failures: { $failed_today } / { $failed_week } / { $failed_month }
    Queue: { $queue_depth }, oldest waiting { $oldest_seconds } s

    Payments:
    { $revenue }
    Credits held by users: { $outstanding }
    Open holds: { $open_holds } for { $open_holds_amount } cr.
    Credits charged: today { $charged_today }, this month { $charged_month }

    Minutes transcribed: { $stt_today } / { $stt_week } / { $stt_month }
    Pictures: { $images_today } / { $images_week } / { $images_month }
    Provider spend (estimate, $): { $spend_today } / { $spend_week } / { $spend_month }
admin-stats-job = • { $kind } { $status }: { $count }
admin-stats-revenue = • { $provider } { $currency }: { $today } / { $week } / { $month }
admin-stats-none = • none

## /user

admin-user-card =
    👤 { $user }
    Language: { $language }, with us since { $since }
    Invited by: { $referrer }
    Balance: { $available } cr., { $held } cr. on hold
    Free: { $free_time } min today, { $free_images } pictures this month
    { $plan ->
        [none] Plan: none
       *[other] { $plan }
    }
    Banned: { $banned ->
        [yes] yes — { $ban_reason }
       *[no] no
    }
    Blocked the bot: { $blocked ->
        [yes] yes
       *[no] no
    }

    Latest jobs:
    { $jobs }

    Latest payments:
    { $payments }
admin-card-job = • { $when } { $kind } { $status }, { $price } cr.{ $error ->
        [none] {""}
       *[other] {" "}({ $error })
    }
admin-card-payment = • { $when } { $provider } { $amount } { $currency } → { $credits } cr., { $status }
admin-card-none = • none
admin-nobody = nobody

## Buttons

admin-grant-button = ➕ Grant
admin-ban-button = 🚫 Ban
admin-unban-button = ✅ Unban
admin-confirm-button = Confirm
admin-cancel-button = Cancel
admin-retry-button = 🔁 Retry { $job }

## /grant, /debit

admin-grant-how-to = To grant credits, send: /grant { $user } <credits> <reason>
admin-confirm-adjustment = { $kind ->
        [grant] Grant
       *[debit] Debit
    } { $amount } cr. { $kind ->
        [grant] to
       *[debit] from
    } { $user }?
    Available now: { $available } cr.
    Reason: { $reason }
admin-adjusted = { $kind ->
        [grant] Granted
       *[debit] Debited
    } { $amount } cr. { $kind ->
        [grant] to
       *[debit] from
    } { $user }. Available now: { $available } cr.
admin-already-settled = { $status ->
        [done] Already done; nothing was posted again.
        [cancelled] Already cancelled.
       *[failed] Already refused.
    }
admin-debit-too-large = Cannot debit { $needed } cr.: the user has { $available } cr. available. Nothing changed.
admin-action-cancelled = Cancelled; nothing changed.
admin-action-unknown = This button is out of date.

## /ban, /unban

admin-banned = { $again ->
        [yes] { $user } was banned already; reason updated: { $reason }
       *[no] { $user } is banned. Reason: { $reason }
    }{ $jobs ->
        [0] {""}
        [one] {""}
            One unfinished job was cancelled and its hold released.
       *[other] {""}
            { $jobs } unfinished jobs were cancelled and their holds released.
    }
admin-unbanned = { $user } is unbanned.
admin-not-banned = { $user } is not banned.

## /jobs failed

admin-failed-jobs = Latest failed jobs:
    { $jobs }
admin-failed-job = • { $job } { $kind } of { $user }, { $when }: { $reason }{ $retried ->
        [none] {""}
       *[other] {" "}→ retried as { $retried }
    }
admin-no-failed-jobs = No failed jobs.
admin-retried = Job { $job } queued again as { $new_job }, { $price } cr. on hold.
admin-retry-already = This job was already retried as { $new_job }.
admin-retry-not-failed = This job has not failed; nothing to retry.
admin-retry-banned = The job's owner is banned; nothing was queued.
admin-retry-insufficient = The user cannot pay: { $needed } needed, { $available } available. Nothing was queued.

## /audit

admin-audit = Audit trail{ $user ->
        [none] {""}
       *[other] {" "}of { $user }
    }:
    { $lines }
admin-audit-line = • #{ $id } { $when } { $actor } { $action }{ $target ->
        [none] {""}
       *[other] {" "}→ #{ $target }
    }{ $reason ->
        [none] {""}
       *[other] {" "}“{ $reason }”
    } { $change }
admin-audit-empty = The audit trail is empty.

## /broadcast

admin-broadcast-preview =
    ⬆️ This is how your message will look.
    Recipients: { $audience } ({ $segment ->
        [none] everyone
       *[other] { $segment }
    }); banned users and users who blocked the bot are left out.
    Send it?
admin-send-button = 📣 Send
admin-broadcast-not-copyable = This message cannot be copied (service messages, invoices and quizzes cannot be); nothing will be sent.
admin-broadcast-started = { $recipients ->
        [one] Sending to one user.
       *[other] Sending to { $recipients } users.
    } You will get a report when it is done.
admin-broadcast-already = { $status ->
        [sending] This broadcast is being sent already.
        [done] This broadcast was sent already.
       *[cancelled] This broadcast was cancelled.
    }
admin-broadcast-report =
    📣 The broadcast is finished.
    Sent: { $sent }
    Blocked the bot: { $blocked }
    Failed: { $failed }
    Skipped (banned or blocked the bot meanwhile): { $skipped }

## The command menu in admins' own chats

admin-command-stats = Stats
admin-command-user = A user's card
admin-command-grant = Grant credits
admin-command-debit = Debit credits
admin-command-ban = Ban a user
admin-command-unban = Lift a ban
admin-command-jobs = Failed jobs (/jobs failed)
admin-command-audit = Audit trail
admin-command-broadcast = Broadcast (in reply to a message)

## /paysupport

admin-support-request =
    Payment question #{ $request } from { $user }:

    { $question }

    Reply to this message: your reply goes to the user from the bot.
admin-support-answer-sent = Answer sent: { $user }.
admin-support-answer-failed = The answer could not be delivered ({ $user }): the user may have blocked the bot.
