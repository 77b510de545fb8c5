## Тарифы: /plan, его кнопки, счета и уведомления о продлении.

plan-choose = Тарифы продлеваются каждые 30 дней. Включённое в тариф тратится раньше бесплатных минут и кредитов.
plan-offer = • { $name }: { $minutes } мин расшифровки и { $images } { $images ->
        [one] картинка
        [few] картинки
       *[other] картинок
    }{ $discount ->
        [0] {""}
       *[other] , скидка { $discount }% на пакеты кредитов
    } — { $price } ₽ или { $stars } ⭐ в месяц
plan-none = У вас нет тарифа.
plan-current = Тариф { $name }: осталось { $minutes_left } мин и { $images_left } { $images_left ->
        [one] картинка
        [few] картинки
       *[other] картинок
    }, { $renews ->
        [yes] продлится { $until }
       *[other] закончится { $until }
    }.
plans-unavailable = Тарифов сейчас нет.
plan-stars-button = { $name } за { $stars } ⭐ в месяц
plan-card-button = { $name } за { $price } ₽ в месяц (карта)
plan-cancel-button = Отменить продление
plan-resume-button = Продлевать снова
plan-invoice-title = Тариф { $name }, 30 дней
plan-invoice-description = { $minutes } мин расшифровки и { $images } картинок каждые 30 дней, продление до отмены.
plan-pay-by-link = Тариф { $name } за { $price } ₽ в месяц: оплатите на странице ЮKassa. Карта сохранится, чтобы продлевать тариф каждые 30 дней, пока вы не отмените его в /plan.
plan-pay-stars = Тариф { $name } за { $stars } ⭐ в месяц, Telegram продлевает его, пока вы не отмените его в /plan.
plan-active = Тариф { $name } действует до { $until }.
plan-already = У вас уже есть тариф { $name } до { $until }. Отмените продление в /plan и оформите новый, когда он закончится.
plan-canceled = Продление отменено. Тариф действует до { $until }.
plan-resumed = Тариф снова продлится { $until }.
plan-not-canceled = Нет продления тарифа, которое можно изменить.
plan-ended = Тариф { $name } закончился. Оформить снова можно в /plan.
plan-renewal-failed = Не удалось продлить тариф { $name } сохранённой картой. Он действует до { $until }; оформить снова можно в /plan.
plan-duplicate-refunded = У вас уже есть тариф { $name } до { $until }, поэтому этот платёж ничего не покупает: мы возвращаем его вам и напишем, когда деньги вернутся.
plan-withdrawn = Тариф { $name } больше не продаётся, поэтому он не продлится и больше ничего за него не спишется. Он действует до { $until }; тарифы в продаже — в /plan.
plan-stars-renewal-failed = Telegram не смог списать звёзды за продление тарифа { $name }, поэтому он закончится { $until }. Пополните звёзды и оформите тариф снова в /plan.
