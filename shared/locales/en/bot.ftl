## Everything the bot says in English. A message is one variant of
## `shared::i18n::Text` (or of one of its helper enums); its arguments are the
## variant's fields.
##
## Numbers arrive with a decimal point and without grouping. Plural variants
## follow CLDR: one (exactly 1), other (0, 2, 1.5…).

## Commands and conversation

welcome =
    Hello, { $first_name }!

    I turn voice messages, audio and video into text, and I draw and edit pictures.

    { $free_minutes ->
        [0] Send me a voice message.
        [one] Send me a voice message: { $free_minutes } min. a day is free.
       *[other] Send me a voice message: { $free_minutes } min. a day are free.
    }
    All commands: /help

help =
    What I can do:
    • transcribe voice messages, audio, video and video notes: just send the file;
    • /image <description>: draw a picture;
    • a photo with a caption: edit the photo;
    • /balance: balance, /buy: top up, /history: history.

    Price: { $price_per_minute } { $price_per_minute ->
        [one] credit
       *[other] credits
    } a minute{ $free_minutes ->
        [0] .
        [1] , the first minute a day is free.
       *[other] , the first { $free_minutes } min. a day are free.
    }

unknown = I did not get that. Send a voice message or audio, or see /help.

balance =
    Balance: { $available } { $available ->
        [one] credit
       *[other] credits
    }
    Reserved: { $held }
    Free today: { $free_time } min.
    Free images this month: { $free_images_left }

history-heading = Your history:
history-empty = No operations yet.
history-entry = { $when } { $what }{ $duration ->
        [none] {""}
       *[other] {" "}{ $duration }
    } — { $outcome ->
        [charged] { $credits } { $credits ->
            [one] credit
           *[other] credits
        }
        [free] free
        [reserved] { $credits } { $credits ->
            [one] credit
           *[other] credits
        } reserved for the job in progress
        [nothing] nothing charged
        [credited] +{ $credits } { $credits ->
            [one] credit
           *[other] credits
        }
        [debited] -{ $credits } { $credits ->
            [one] credit
           *[other] credits
        }
        [waiting] waiting for payment
       *[unpaid] not paid
    }
history-what-transcription = Transcription
history-what-picture = Picture
history-what-idea = Prompt ideas
history-what-summary = Summary
# Indented under the purchase it paid for.
history-payment = {"    "}{ $provider } · { $currency ->
        [XTR] { $amount } ⭐
        [RUB] { $amount } ₽
       *[other] { $amount } { $currency }
    } · { $status }
older-button = Older »

history-kind-purchase = Top-up
history-kind-bonus = Bonus
history-kind-hold = Reserved
history-kind-charge = Charge
history-kind-release = Reservation returned
history-kind-refund = Refund
history-kind-adjustment = Adjustment
history-kind-reversal = Top-up reversed

payment-via-yookassa = YooKassa
payment-via-telegram-card = card in Telegram
payment-via-stars = Telegram Stars

payment-state-pending = pending
payment-state-paid = paid
payment-state-canceled = canceled
payment-state-refunded = refunded

# The same in both languages: the user is choosing one.
choose-language = Выберите язык / Choose your language:
language-set = Done: I will speak English.

slow-down = Too many messages. Please wait a minute.
internal-error = Something went wrong on our side. Nothing was charged; please try again.

## Referrals

referral =
    Your link: { $link }
    You get { $percent }% of your friends' first purchase in credits.
    Invited: { $invited }, paid: { $paid }, earned: { $earned } { $earned ->
        [one] credit
       *[other] credits
    }.

## Transcription

queued = Got it. Price: { $price } { $price ->
        [one] credit
       *[other] credits
    }{ $free_seconds ->
        [0] {""}
       *[other] , { $free_time } min. free
    }. Queue: { $position ->
        [0] you are next
        [one] { $position } file ahead of you
       *[other] { $position } files ahead of you
    }. Transcribing…
insufficient-funds = Not enough credits: { $price } needed, { $available } available. Top up and I will transcribe it.
app-button = Open the app
app-intro = Your balance, history, transcripts and pictures are in the app; recordings too big for a chat can be uploaded there.
buy-button = Buy credits
file-too-big = The file is too big: Telegram lets bots download files up to { $limit_mb } MB. Compress it or send it in parts.
too-long = The recording is too long: I accept up to { $max_minutes } { $max_minutes ->
        [one] minute
       *[other] minutes
    }.
not-audio = This is not audio or video. Send a voice message, audio or video.
already-transcribed = I transcribed this file before: here it is again, free.
too-many-jobs = You already have { $limit } { $limit ->
        [one] file
       *[other] files
    } in the queue. Wait for a result, then send the next one.
cancelled = Cancelled. { $returned } { $returned ->
        [one] credit is
       *[other] credits are
    } back on your balance.
nothing-to-cancel = Nothing to cancel: none of your files is waiting.
export-preparing = Collecting your data…
export-ready = Your data: profile, credit history, payments, transcripts (.txt and .srt) and links to your pictures (they work for { $link_hours } h).{ $omitted ->
        [0] {""}
        [one] {" "}{ $omitted } file did not fit into the archive; it is listed in omitted.txt.
       *[other] {" "}{ $omitted } files did not fit into the archive; they are listed in omitted.txt.
    }
export-failed = I could not collect your data right now. Please try again in a few minutes.
erase-confirm =
    This deletes for good: your recordings, transcripts and summaries, your pictures, your /idea history, your settings and your name. Files in progress are cancelled and their reserved credits returned.

    Kept, without your name: payments and the credit history, which accounting law requires us to keep. Your balance of { $available } { $available ->
        [one] credit
       *[other] credits
    } stays on your account and is yours if you come back.

    Delete your data?
erase-button = Delete my data
erase-keep-button = Cancel
erased = Your data is deleted. Your balance of { $available } { $available ->
        [one] credit
       *[other] credits
    } is kept. Send /start whenever you want to use the bot again.
erase-called-off = Nothing was deleted.
downloading = Downloading the file…
price-raised = The recording lasts { $duration }, longer than its file size suggested. The price is { $price } { $price ->
        [one] credit
       *[other] credits
    }.
transcribing = Transcribing: { $done } of { $total } min…
time-left = { $minutes ->
        [0] About { $seconds } s left.
       *[other] About { $minutes } min left.
    }
transcribed-in = Done: { $duration } transcribed in { $minutes ->
        [0] { $seconds } s.
       *[other] { $minutes } min { $seconds } s.
    }
held-price = { $price ->
        [0] Free: today's free minutes pay for it.
       *[other] Price: { $price } { $price ->
            [one] credit
           *[other] credits
        }.
    }
transcript-footer = Duration { $duration }, { $charged } { $charged ->
        [one] credit
       *[other] credits
    } charged.
txt-button = Get .txt
srt-button = Get .srt
transcript-as-file = The text is long, so here it is as a file; the subtitles are one tap away.
transcription-unaffordable = The recording lasts { $duration }; transcribing it costs { $price } { $price ->
        [one] credit
       *[other] credits
    } and your balance is { $available }. Top up with /buy and send it again. You were not charged.
transcription-failed = I could not transcribe it: { $reason }. You were not charged.

transcription-failure-corrupt = the file is damaged
transcription-failure-unsupported = I cannot read this format
transcription-failure-no-audio = the file has no sound
transcription-failure-too-long = the recording is too long
transcription-failure-too-big = the file is too big to download
transcription-failure-provider-unavailable = the speech recognition service is unavailable
transcription-failure-not-enough-credit = your balance does not cover it; top up with /buy and send it again
transcription-failure-internal = something broke on our side

## Payments

choose-package = Choose a credit package:
package-rub = { $credits } { $credits ->
        [one] credit
       *[other] credits
    } for { $price } RUB
package-card = { $credits } { $credits ->
        [one] credit
       *[other] credits
    } for { $price } RUB by card in Telegram
package-stars = { $credits } { $credits ->
        [one] credit
       *[other] credits
    } for { $stars } ⭐
pay-by-link = { $price } RUB for { $credits } { $credits ->
        [one] credit
       *[other] credits
    }. Tap Pay to pay by card or SBP.
pay-button = Pay
invoice-title = { $credits } { $credits ->
        [one] credit
       *[other] credits
    }
invoice-description = Credits for transcripts and pictures
payment-received = Payment received: +{ $credits } { $credits ->
        [one] credit
       *[other] credits
    }. Balance: { $balance }.
payment-canceled = The payment was cancelled; you were not charged.
payment-refused = This invoice is out of date. Open /buy and choose a package again.
payments-unavailable = Payments are unavailable right now; please try later.

refund-usage = Usage: /refund <telegram_payment_charge_id of Stars, or a YooKassa payment id>
refund-not-found = There is no paid payment with this id (neither Stars nor YooKassa).
refund-not-possible = Cannot refund: the payment is { $status }.
refund-balance-short = Cannot refund: { $needed } { $needed ->
        [one] credit
       *[other] credits
    } must be taken back but the user has { $available }. Nothing changed.
refund-failed = Telegram did not return the Stars: { $reason }. Nothing changed.
refund-done = Done: { $stars } ⭐ returned, { $credits } { $credits ->
        [one] credit
       *[other] credits
    } taken back.
refunded-to-you = { $stars } ⭐ { $stars ->
        [one] was
       *[other] were
    } returned to you{ $credits ->
        [0] .
        [one] ; { $credits } credit was taken off your balance.
       *[other] ; { $credits } credits were taken off your balance.
    }
refunded-by-card = { $amount } RUB has been returned to you{ $credits ->
        [0] .
        [one] ; { $credits } credit was taken from your balance.
       *[other] ; { $credits } credits were taken from your balance.
    }
card-refund-done = Done: YooKassa returned { $amount } RUB, { $credits ->
        [one] { $credits } credit
       *[other] { $credits } credits
    } taken back.
card-refund-failed = YooKassa did not make the refund: { $reason }. Nothing changed.
card-refund-pending = YooKassa took the refund and is still processing it; the credits are taken back when it reports success.

## Pictures

ask-image-prompt = What should I draw? Describe the picture in a reply to this message.
prompt-too-long = The description is too long: { $max } { $max ->
        [one] character
       *[other] characters
    } at most.
not-enough-for-image = Not enough credits: { $price } needed, { $available } available. Top up and try again.
# $free is "yes" when a free picture of the month pays for it; $edit is "yes" for an edit of a photo.
image-queued = Got it. Price: { $price } { $price ->
        [one] credit
       *[other] credits
    }{ $free ->
        [yes] {" "}(a free picture of this month)
       *[no] {""}
    }. { $edit ->
        [yes] Editing the photo…
       *[no] Drawing…
    }
image-ready = “{ $prompt }”
    Done. { $charged } { $charged ->
        [one] credit
       *[other] credits
    } charged.
full-quality-button = Full quality
image-expired = This picture has already been deleted from storage.
idea-already-picked = That one is already being drawn, or was: it is in this chat. To draw it again, send it with /image.
spoken-choose = Recordings are transcribed in: { $current }. Choose a language, or let me detect it:
spoken-auto = Detect automatically
spoken-set = Done: recordings will be transcribed in: { $language }.
edit-how-to = To edit a photo, send it with a caption saying what to change, or reply to the photo with /edit <what to change>.
not-an-image = This is not a picture. To edit, send a JPEG, PNG or WebP photo.
image-too-big = The photo is too big: up to { $limit_mb } MB can be edited.
image-failed = I could not make the picture: { $reason }. You were not charged.
idea-how-to = Describe your idea after the command, e.g. /idea a cat astronaut. I will suggest three prompts.
idea-queued = Thinking up prompts… Price: { $price } { $price ->
        [one] credit
       *[other] credits
    }.
# $ideas is the numbered list, one idea a line.
idea-list =
    Ideas: tap a button to draw one.
    { $ideas }
    { $charged } { $charged ->
        [one] credit
       *[other] credits
    } charged.
idea-failed = I could not think up prompts: { $reason }. You were not charged.

image-failure-refused = the service refused the request under its safety rules; try describing it differently
image-failure-not-an-image = this is not a JPEG, PNG or WebP picture
image-failure-too-big = the photo is too big
image-failure-unavailable = the picture service is unavailable

## Summaries of transcripts

summary-button = Summary
summary-queued = Summarising and listing the action items… Price: { $price } { $price ->
        [one] credit
       *[other] credits
    }.
# $summary is the model's answer, several lines; $partial is "yes" when only the beginning of a long transcript was summarised.
summary-ready =
    Summary

    { $summary }

    { $partial ->
        [yes] The transcript is long: this summarises its beginning.{" "}
       *[no] {""}
    }{ $charged } { $charged ->
        [one] credit
       *[other] credits
    } charged.
summary-stored =
    Summary (made before, free)

    { $summary }{ $partial ->
        [yes] {"\u000A\u000A"}The transcript is long: this summarises its beginning.
       *[no] {""}
    }
summary-in-progress = I am already summarising this transcript; the summary will come as a reply to it.
not-enough-for-summary = Not enough credits for a summary: { $price } needed, { $available } available. Top up and tap the button again.
summary-failed = I could not summarise the transcript: { $reason }. You were not charged.

summary-failure-unavailable = the service is unavailable, please try later
summary-failure-refused = the service refused to process this transcript
summary-failure-no-transcript = this transcript no longer exists
summary-failure-empty = the transcript has no words

## The command menu

command-start = Start
command-help = What the bot does and what it costs
command-balance = Balance and free minutes
command-history = Your history
command-buy = Buy credits
command-plan = Plans: minutes and pictures every month
command-image = Draw a picture
command-idea = Ideas for a picture
command-referral = Invite friends
command-lang = Language
command-language = Transcription language
command-cancel = Cancel a queued file
command-mydata = A copy of your data
command-deletemydata = Delete your data
command-paysupport = Payment support and refunds
command-terms = Terms of use

## Groups

command-transcribe = Transcribe the recording you reply to
command-auto = on|off: transcribe every voice note (admins)

group-intro =
    Hello! I turn voice notes, audio, video and video notes into text.

    • Reply to a recording with /transcribe (or mention @{ $bot } in the reply): I post its transcript as a reply. The person who asks pays from their own balance with me: { $free_minutes ->
        [0] {""}
       *[other] { $free_minutes } free min. a day first, then{" "}
    }{ $price_per_minute } { $price_per_minute ->
        [one] credit
       *[other] credits
    } a minute.
    • Admins: /auto on transcribes every new voice note and video note here, paid by the admin who turns it on, up to { $auto_minutes } min. a day; /auto off stops it.

    What I see: with Telegram's privacy mode on (the default) only commands, replies to my messages and messages that mention me, not your conversation. For /auto I need to see voice notes: make me an admin of this group.
    Balance and top-ups: in a private chat with @{ $bot }.
transcribe-how-to = Reply to a voice note, audio, video or video note with /transcribe@{ $bot } and I will transcribe it.
group-not-enough-credit = { $first_name }, you do not have enough credits for this recording. Top up in a private chat with me.
group-transcription-unaffordable = The recording lasts { $duration } and costs { $price } { $price ->
        [one] credit
       *[other] credits
    }: not enough credits. Nothing was charged. Top up in a private chat with me.
private-only = I show accounts only in a private chat. Open one with me:
open-private-button = Open a private chat
group-slow-down = Too many requests in this chat. Please wait a minute.
auto-usage = /auto on — transcribe every new voice note here (paid by you, an admin); /auto off — stop.
auto-admins-only = Only the group's admins can turn automatic transcription on or off.
group-sender-unknown = This was sent on behalf of the group, so I cannot tell who asked or who pays. Send it as yourself: turn off "Remain anonymous" in your admin rights, or ask someone else.
auto-on = Automatic transcription is on: every new voice note and video note here is transcribed, paid by { $payer }, up to { $minutes } min. a day.{ $sees_all ->
        [yes] {""}
       *[no] {" "}But I cannot see ordinary voice notes yet: make me an admin of this group (or turn privacy mode off in @BotFather).
    }
auto-off = Automatic transcription is off.
auto-cap-reached = This chat reached today's { $minutes } min. of automatic transcription. It resumes tomorrow; /transcribe in reply still works.
auto-payer-out-of-credit = Automatic transcription is paused until tomorrow: the credits of the admin who turned it on ran out. /transcribe in reply still works.

pay-support =
    Payment support.

    If a payment did not arrive, credits were charged wrongly or you want your money back, write in one message:
    /paysupport <what happened>
    We pass it to the team and answer in this chat. Every top-up and charge is in /history.

    Unspent credits of a purchase can be refunded: the money goes back the way you paid (Telegram Stars, or a card through YooKassa). Terms: /terms.{ $contact ->
        [none] {""}
       *[other]
            {""}

            Contacts: { $contact }
    }
pay-support-answer =
    Support's answer:

    { $answer }
pay-support-sent = Your question is with the team. We will answer in this chat.
pay-support-slow-down = You are writing too often. Wait a minute and send your question in one message.
pay-support-unavailable = There is nobody to pass your question to right now. Please try later.
terms = { $url ->
        [none]
            Terms of use.

            • Credits are bought in packages and do not expire; the price of every operation is shown before it starts and in /history.
            • A transcript is paid by the recording's actual length, a picture per finished picture. When a job fails, its credits go back to your balance.
            • Unspent credits of a purchase can be refunded: write /paysupport. The money goes back the way you paid.
            • Recordings are kept for a limited time; /mydata gives a copy of your data, /deletemydata deletes it.
       *[other] Terms of use: { $url }
    }
