## Everything the Mini App page shows, in English. The server renders each
## message with every variable replaced by the literal text `{name}` and
## sends them all in /app/texts.json; the page puts the values in. So no
## selectors here: texts are phrased to need no plural agreement ("Balance,
## credits" over the number, "Credits: 330"). Numbers arrive with a decimal
## point.

page-title = My account
page-loading = Loading…
page-retry = Try again
page-back = ‹ Back
page-more = Show more
page-copied = Copied
page-copy-failed = Could not copy: select the text and copy it by hand.
page-size-mb = { $mb } MB
page-size-kb = { $kb } KB

## Outside Telegram and sign-in

page-outside-title = Open the app from the bot
page-outside-text = This page works inside Telegram. Open the chat with the bot and tap “Open the app”.
page-signin-failed = Could not sign in

## Home

page-home-hello = Hello, { $name }!
page-home-hello-anon = Hello!
page-balance-label = Balance, credits
page-balance-held = Reserved: { $credits }
page-free-minutes = Free today, min: { $minutes }
page-free-images = Free pictures left this month: { $count }
page-plan-renews = Plan { $name }: { $minutes } min and { $count } pictures left, renews on { $until }
page-plan-ends = Plan { $name }: { $minutes } min and { $count } pictures left, ends on { $until }
page-nav-upload = Upload a big file
page-nav-transcripts = Transcripts
page-nav-images = Pictures
page-nav-history = History
page-nav-buy = Top up
page-nav-settings = Settings
page-referral-title = Invite friends
page-referral-text = Share your link: when a friend tops up for the first time, you get bonus credits.
page-referral-copy = Copy the link
page-referral-copied = Link copied
page-referral-invited = Invited: { $count }
page-referral-paid = Paid: { $count }
page-referral-earned = Credits earned: { $credits }

## Transcripts

page-transcripts-title = Transcripts
page-search-label = Search your transcripts
page-search-placeholder = Words from the text
page-search-button = Search
page-transcripts-empty = No transcripts yet: send the bot a voice message.
page-transcripts-not-found = Nothing found. Try other words.
page-transcript-no-text = No text
page-transcript-title = Transcript
page-transcript-empty = No speech was found in this recording.
page-download-txt = Text .txt
page-download-srt = Subtitles .srt
page-download-vtt = Subtitles .vtt
page-download-audio = Audio
page-downloads-hint = Download links work for { $minutes } min.
page-summary-title = Summary
page-summary-partial = The transcript is long: this summarises its beginning.
page-copy-text = Copy the text

## Pictures

page-images-title = Pictures
page-images-hint = Tap a picture to open the full-quality original.
page-images-empty = No pictures yet: ask the bot to draw one with /image and a description.
page-image-kept-until = Kept until { $date }
page-image-edited = Edited
page-image-edit = Edit
page-image-edit-label = What should change?
page-image-edit-placeholder = For example: make the background blue
page-image-edit-submit = Send

## A job in progress (an upload or a picture edit)

page-job-queued = Queued: starting soon.
page-job-running = Working on it…
page-job-succeeded = Done!
page-job-failed = That did not work.
page-job-cancelled = Cancelled.
page-job-undeliverable = Done, but it could not be sent to the chat: the result is kept here.
page-job-unknown = Status: { $status }
page-job-price = Price, credits: { $price }
page-job-charged = Credits charged: { $price }
page-job-not-charged = Nothing was charged.
page-job-later-transcript = You can close the app: the transcript will arrive in the chat.
page-job-later-image = You can close the app: the picture will arrive in the chat.
page-job-sent-transcript = The transcript was also sent to you in the chat.
page-job-sent-image = The picture was also sent to you in the chat and will appear in the gallery.
page-job-open-transcript = Open the transcript
page-job-error-corrupt = The file is damaged.
page-job-error-unsupported-format = I cannot read this format.
page-job-error-no-audio = The file has no sound.
page-job-error-too-long = The recording is too long.
page-job-error-too-big = The file is too big.
page-job-error-provider-unavailable = The service is unavailable right now; try again a little later.
page-job-error-not-enough-credit = There are not enough credits on the balance.
page-job-error-internal = Something broke on our side; please try again.
page-job-error-content-policy = The service refused the request under its safety rules: try describing it differently.
page-job-error-not-an-image = This is not a JPEG, PNG or WebP picture.
page-job-error-other = Please try again.

## History

page-history-title = History
page-history-empty = No operations yet.
page-history-transcription = Transcription
page-history-image = Picture
page-history-idea = Picture ideas
page-history-summary = Summary
page-history-purchase = Top-up
page-history-bonus = Bonus
page-history-hold = Reserve
page-history-capture = Charge
page-history-release = Reserve released
page-history-refund = Refund
page-history-adjustment = Adjustment
page-history-reversal = Top-up reversed
page-history-other = Operation
page-history-held = reserved: { $credits }
page-status-queued = queued
page-status-running = in progress
page-status-succeeded = done
page-status-failed = failed
page-status-cancelled = cancelled
page-status-undeliverable = not delivered to the chat
page-method-yookassa = YooKassa
page-method-telegram = card in Telegram
page-method-stars = Telegram Stars
page-payment-pending = awaiting payment
page-payment-succeeded = paid
page-payment-canceled = cancelled
page-payment-refunded = refunded

## Buying credits

page-buy-title = Top up
page-buy-intro = Choose a package. The credits arrive as soon as the payment does.
page-buy-empty = No packages on sale right now.
page-package-credits = Credits: { $credits }
page-package-bonus = { $credits } + { $percent }% bonus
page-pay-yookassa = Card or SBP: { $price } ₽
page-pay-stars = Stars: { $stars } ⭐
page-checkout-waiting = Waiting for the payment… The balance updates by itself once it arrives.
page-checkout-crediting = Payment done, adding the credits…
page-checkout-done = Payment received! Balance, credits: { $balance }
page-checkout-timeout = The payment has not arrived yet. If you paid, the credits will appear a little later and the bot will tell you.
page-checkout-cancelled = Payment cancelled; nothing was charged.
page-checkout-failed = The payment did not go through. Try again or choose another way to pay.

## Upload

page-upload-title = Upload a recording
page-upload-intro = Here you can send a file bigger than 20 MB for transcription: Telegram does not let bots download those. The text will appear here and arrive in the chat.
page-upload-limit = Files up to { $mb } MB.
page-upload-choose = Choose a file
page-upload-choose-other = Choose another file
page-upload-start = Upload and transcribe
page-upload-sending = Uploading…
page-upload-checking = Checking the file…
page-upload-cancel = Cancel the upload

## Settings

page-settings-title = Settings
page-settings-language = Language of the bot and the app
page-settings-transcription = Language of your recordings
page-settings-transcription-hint = If your recordings are always in one language, choose it: transcripts will be more accurate.
page-settings-saved = Saved
page-ui-ru = Русский
page-ui-en = English
page-lang-auto = Detect automatically
page-lang-ru = Russian
page-lang-en = English
page-lang-uk = Ukrainian
page-lang-kk = Kazakh
page-lang-be = Belarusian
page-lang-uz = Uzbek
page-lang-de = German
page-lang-fr = French
page-lang-es = Spanish
page-lang-it = Italian
page-lang-pt = Portuguese
page-lang-tr = Turkish
page-lang-pl = Polish
page-lang-nl = Dutch
page-lang-zh = Chinese
page-lang-ja = Japanese
page-lang-ko = Korean
page-lang-ar = Arabic
page-lang-hi = Hindi

## Errors: page-error-<code> for the API's `error` codes (underscores as hyphens)

page-error-generic = Something went wrong. Please try again.
page-error-server = That did not work: { $message }
page-error-network = No connection to the server. Check the internet and try again.
page-error-internal = Something went wrong on our side. Nothing was charged; please try again.
page-error-signin = Could not sign in. Close the app and open it again from the bot.
page-error-expired = The session is out of date. Close the app and open it again from the bot.
page-error-too-many-requests = Too many requests. Please wait a minute.
page-error-too-many-jobs = You already have several files in the queue. Wait for the results, then upload the next one.
page-error-too-big = The file is too big.
page-error-too-big-limit = The file is too big: files up to { $mb } MB are accepted.
page-error-insufficient-funds = Not enough credits. Top up the balance and try again.
page-error-not-audio = This is neither audio nor video. Choose a recording with speech.
page-error-empty = The file is empty. Choose another one.
page-error-incomplete = The file did not upload completely. Please try again.
page-error-part-failed = The file could not be uploaded. Please try again.
page-error-not-found = Not found: it may have been deleted.
page-error-unknown-package = This package is no longer on sale. Open the list of packages again.
page-error-yookassa-unavailable = Paying by card is unavailable right now; you can pay with Stars.
page-error-provider-failed = The payment service did not answer. Try again a little later.
page-error-prompt-too-long = The description is too long. Please shorten it.
