## Subscription plans: /plan, its buttons, invoices and the notices of renewals.

plan-choose = Plans renew every 30 days. What a plan includes is used before your free minutes and your credits.
plan-offer = • { $name }: { $minutes } min of transcription and { $images } { $images ->
        [one] picture
       *[other] pictures
    }{ $discount ->
        [0] {""}
       *[other] , { $discount }% off credit packages
    } — { $price } ₽ or { $stars } ⭐ a month
plan-none = You have no plan.
plan-current = Plan { $name }: { $minutes_left } min and { $images_left } { $images_left ->
        [one] picture
       *[other] pictures
    } left, { $renews ->
        [yes] renews on { $until }
       *[other] ends on { $until }
    }.
plans-unavailable = No plans are on sale.
plan-stars-button = { $name } for { $stars } ⭐ a month
plan-card-button = { $name } for { $price } ₽ a month (card)
plan-cancel-button = Cancel renewal
plan-resume-button = Renew again
plan-invoice-title = Plan { $name }, 30 days
plan-invoice-description = { $minutes } min of transcription and { $images } pictures every 30 days, renewed until you cancel.
plan-pay-by-link = Plan { $name } for { $price } ₽ a month: pay on the YooKassa page. Your card is saved to renew the plan every 30 days until you cancel it in /plan.
plan-pay-stars = Plan { $name } for { $stars } ⭐ a month, renewed by Telegram until you cancel it in /plan.
plan-active = Plan { $name } is active until { $until }.
plan-already = You already have plan { $name } until { $until }. Cancel its renewal in /plan and subscribe again once it ends.
plan-canceled = Renewal cancelled. The plan runs until { $until }.
plan-resumed = The plan will renew again on { $until }.
plan-not-canceled = There is no plan renewal to change.
plan-ended = Plan { $name } has ended. Subscribe again in /plan.
plan-renewal-failed = We could not renew plan { $name } with your saved card. It runs until { $until }; subscribe again in /plan.
plan-duplicate-refunded = You already have plan { $name } until { $until }, so this payment buys nothing: we are returning it to you, and you will get a message once it is back.
plan-withdrawn = Plan { $name } is no longer offered, so it will not renew and nothing more is charged for it. It runs until { $until }; the plans on offer are in /plan.
plan-stars-renewal-failed = Telegram could not charge the Stars to renew plan { $name }, so it ends on { $until }. Top up your Stars and subscribe again in /plan.
