## Everything the bot says in Russian. A message is one variant of
## `shared::i18n::Text` (or of one of its helper enums); its arguments are the
## variant's fields.
##
## Numbers arrive formatted with a decimal comma and without grouping. Plural
## variants follow CLDR: one (1, 21, 101…), few (2–4, 22–24…), many (0, 5–20,
## 25–30…), other (fractions: «1,5 кредита»). Counts after «до» and «не больше»
## take the genitive: «до 1 минуты», «до 5 минут».

## Commands and conversation

welcome =
    Здравствуйте, { $first_name }!

    Я превращаю голосовые сообщения, аудио и видео в текст, а ещё рисую и редактирую картинки.

    { $free_minutes ->
        [0] Пришлите голосовое сообщение.
       *[other] Пришлите голосовое сообщение — каждый день { $free_minutes } мин. бесплатно.
    }
    Все команды: /help

help =
    Что я умею:
    • расшифровка голосовых, аудио, видео и кружочков — просто пришлите файл;
    • /image <описание> — нарисовать картинку;
    • фото с подписью — отредактировать фото;
    • /balance — баланс, /buy — пополнить, /history — история.

    Цена: { $price_per_minute } { $price_per_minute ->
        [one] кредит
        [few] кредита
        [many] кредитов
       *[other] кредита
    } за минуту{ $free_minutes ->
        [0] .
        [1] , первая минута в день бесплатно.
       *[other] , первые { $free_minutes } мин. в день бесплатно.
    }

unknown = Не понял. Пришлите голосовое сообщение или аудио, или посмотрите /help.

balance =
    Баланс: { $available } { $available ->
        [one] кредит
        [few] кредита
        [many] кредитов
       *[other] кредита
    }
    В резерве: { $held }
    Бесплатно сегодня: { $free_time } мин.
    Бесплатных картинок в этом месяце: { $free_images_left }

history-heading = История операций:
history-empty = Операций пока нет.
history-entry = { $when } { $what }{ $duration ->
        [none] {""}
       *[other] {" "}{ $duration }
    } — { $outcome ->
        [charged] { $credits } { $credits ->
            [one] кредит
            [few] кредита
            [many] кредитов
           *[other] кредита
        }
        [free] бесплатно
        [reserved] { $credits } { $credits ->
            [one] кредит
            [few] кредита
            [many] кредитов
           *[other] кредита
        } в резерве, пока идёт работа
        [nothing] ничего не списано
        [credited] +{ $credits } { $credits ->
            [one] кредит
            [few] кредита
            [many] кредитов
           *[other] кредита
        }
        [debited] -{ $credits } { $credits ->
            [one] кредит
            [few] кредита
            [many] кредитов
           *[other] кредита
        }
        [waiting] ждёт оплаты
       *[unpaid] не оплачено
    }
history-what-transcription = Расшифровка
history-what-picture = Картинка
history-what-idea = Идеи для картинки
history-what-summary = Краткое содержание
# Indented under the purchase it paid for.
history-payment = {"    "}{ $provider } · { $currency ->
        [XTR] { $amount } ⭐
        [RUB] { $amount } ₽
       *[other] { $amount } { $currency }
    } · { $status }
older-button = Ранее »

history-kind-purchase = Пополнение
history-kind-bonus = Бонус
history-kind-hold = Резерв
history-kind-charge = Списание
history-kind-release = Возврат резерва
history-kind-refund = Возврат
history-kind-adjustment = Корректировка
history-kind-reversal = Отмена пополнения

payment-via-yookassa = YooKassa
payment-via-telegram-card = карта в Telegram
payment-via-stars = Telegram Stars

payment-state-pending = ожидает оплаты
payment-state-paid = оплачен
payment-state-canceled = отменён
payment-state-refunded = возвращён

# The same in both languages: the user is choosing one.
choose-language = Выберите язык / Choose your language:
language-set = Готово: говорю по-русски.

slow-down = Слишком много сообщений. Подождите минуту, пожалуйста.
internal-error = Что-то пошло не так на нашей стороне. Деньги не списаны, попробуйте ещё раз.

## Referrals

referral =
    Ваша ссылка: { $link }
    Друзья получат бота, а вы — { $percent }% кредитов с их первой покупки.
    Приглашено: { $invited }, оплатили: { $paid }, заработано: { $earned } { $earned ->
        [one] кредит
        [few] кредита
        [many] кредитов
       *[other] кредита
    }.

## Transcription

queued = Принято. Стоимость: { $price } { $price ->
        [one] кредит
        [few] кредита
        [many] кредитов
       *[other] кредита
    }{ $free_seconds ->
        [0] .
       *[other] , бесплатно { $free_time } мин.
    } Очередь: { $position ->
        [0] следующая
       *[other] перед вами { $position } { $position ->
            [one] файл
            [few] файла
           *[many] файлов
        }
    }. Расшифровываю…
insufficient-funds = Не хватает кредитов: нужно { $price }, на балансе { $available }. Пополните баланс, и я всё расшифрую.
app-button = Открыть приложение
app-intro = В приложении — баланс, история, расшифровки и картинки; туда же можно загрузить записи, которые слишком велики для чата.
buy-button = Пополнить баланс
file-too-big = Файл слишком большой: Telegram разрешает ботам скачивать файлы до { $limit_mb } МБ. Сожмите его или пришлите частями.
too-long = Запись слишком длинная: я принимаю до { $max_minutes } { $max_minutes ->
        [one] минуты
        [few] минут
        [many] минут
       *[other] минуты
    }.
not-audio = Это не аудио и не видео. Пришлите голосовое сообщение, аудио или видео.
already-transcribed = Этот файл я уже расшифровывал — вот текст, бесплатно.
too-many-jobs = У вас уже { $limit } { $limit ->
        [one] файл
        [few] файла
       *[many] файлов
    } в очереди. Дождитесь результата и пришлите следующий.
cancelled = Отменено. Вернул в баланс: { $returned } { $returned ->
        [one] кредит
        [few] кредита
        [many] кредитов
       *[other] кредита
    }.
nothing-to-cancel = Отменять нечего: в очереди нет ваших файлов.
export-preparing = Собираю ваши данные…
export-ready = Ваши данные: профиль, история кредитов, платежи, расшифровки (.txt и .srt) и ссылки на ваши картинки (они работают { $link_hours } ч).{ $omitted ->
        [0] {""}
        [one] {" "}{ $omitted } файл не поместился в архив, он перечислен в omitted.txt.
        [few] {" "}{ $omitted } файла не поместились в архив, они перечислены в omitted.txt.
       *[other] {" "}{ $omitted } файлов не поместились в архив, они перечислены в omitted.txt.
    }
export-failed = Не получилось собрать ваши данные. Попробуйте через несколько минут.
erase-confirm =
    Будут удалены навсегда: ваши записи, расшифровки и их краткое содержание, картинки, история /idea, настройки и имя. Файлы в работе будут отменены, зарезервированные кредиты вернутся.

    Останутся, без вашего имени: платежи и история кредитов — их мы обязаны хранить по закону о бухгалтерском учёте. Ваш баланс { $available } { $available ->
        [one] кредит
        [few] кредита
        [many] кредитов
       *[other] кредита
    } сохранится на счёте и будет вашим, если вы вернётесь.

    Удалить ваши данные?
erase-button = Удалить мои данные
erase-keep-button = Отмена
erased = Ваши данные удалены. Баланс { $available } { $available ->
        [one] кредит
        [few] кредита
        [many] кредитов
       *[other] кредита
    } сохранён. Пришлите /start, когда захотите снова пользоваться ботом.
erase-called-off = Ничего не удалено.
downloading = Скачиваю файл…
price-raised = Запись длится { $duration } — дольше, чем можно было судить по размеру файла. Стоимость: { $price } { $price ->
        [one] кредит
        [few] кредита
        [many] кредитов
       *[other] кредита
    }.
transcribing = Расшифровываю: { $done } из { $total } мин…
time-left = { $minutes ->
        [0] Осталось около { $seconds } с.
       *[other] Осталось около { $minutes } мин.
    }
transcribed-in = Готово: запись { $duration } расшифрована за { $minutes ->
        [0] { $seconds } с.
       *[other] { $minutes } мин { $seconds } с.
    }
held-price = { $price ->
        [0] Бесплатно: хватает сегодняшних бесплатных минут.
       *[other] Стоимость: { $price } { $price ->
            [one] кредит
            [few] кредита
            [many] кредитов
           *[other] кредита
        }.
    }
transcript-footer = Длительность { $duration }, { $charged ->
        [one] списан { $charged } кредит
        [few] списано { $charged } кредита
        [many] списано { $charged } кредитов
       *[other] списано { $charged } кредита
    }.
txt-button = Скачать .txt
srt-button = Скачать .srt
transcript-as-file = Текст длинный — присылаю файлом, субтитры .srt — по кнопке.
transcription-unaffordable = Запись длится { $duration }, её расшифровка стоит { $price } { $price ->
        [one] кредит
        [few] кредита
        [many] кредитов
       *[other] кредита
    }, а на балансе { $available }. Пополните баланс командой /buy и пришлите запись снова. Деньги не списаны.
transcription-failed = Не получилось расшифровать: { $reason }. Деньги не списаны.

transcription-failure-corrupt = файл повреждён
transcription-failure-unsupported = этот формат я не читаю
transcription-failure-no-audio = в файле нет звука
transcription-failure-too-long = запись слишком длинная
transcription-failure-too-big = файл слишком большой для скачивания
transcription-failure-provider-unavailable = сервис распознавания речи сейчас недоступен
transcription-failure-not-enough-credit = на балансе не хватает кредитов; пополните его командой /buy и пришлите запись снова
transcription-failure-internal = у нас что-то сломалось

## Payments

choose-package = Выберите пакет кредитов:
package-rub = { $credits } { $credits ->
        [one] кредит
        [few] кредита
        [many] кредитов
       *[other] кредита
    } — { $price } ₽
package-card = { $credits } { $credits ->
        [one] кредит
        [few] кредита
        [many] кредитов
       *[other] кредита
    } — { $price } ₽ картой в Telegram
package-stars = { $credits } { $credits ->
        [one] кредит
        [few] кредита
        [many] кредитов
       *[other] кредита
    } — { $stars } ⭐
pay-by-link = К оплате { $price } ₽ за { $credits } { $credits ->
        [one] кредит
        [few] кредита
        [many] кредитов
       *[other] кредита
    }. Нажмите «Оплатить» — карта или СБП.
pay-button = Оплатить
invoice-title = { $credits } { $credits ->
        [one] кредит
        [few] кредита
        [many] кредитов
       *[other] кредита
    }
invoice-description = Кредиты для расшифровки и картинок
payment-received = Оплата получена: +{ $credits } { $credits ->
        [one] кредит
        [few] кредита
        [many] кредитов
       *[other] кредита
    }. Баланс: { $balance }.
payment-canceled = Платёж отменён, деньги не списаны.
payment-refused = Этот счёт устарел. Откройте /buy и выберите пакет заново.
payments-unavailable = Оплата сейчас недоступна, попробуйте позже.

refund-usage = Формат: /refund <telegram_payment_charge_id звёзд или id платежа ЮKassa>
refund-not-found = Оплаченного платежа с таким id нет (ни звёздами, ни через ЮKassa).
refund-not-possible = Вернуть нельзя: платёж { $status }.
refund-balance-short = Вернуть нельзя: нужно списать { $needed } { $needed ->
        [one] кредит
        [few] кредита
        [many] кредитов
       *[other] кредита
    }, а у пользователя { $available }. Ничего не изменено.
refund-failed = Telegram не вернул звёзды: { $reason }. Ничего не изменено.
refund-done = Готово: возвращено { $stars } ⭐, { $credits ->
        [one] списан { $credits } кредит
        [few] списано { $credits } кредита
        [many] списано { $credits } кредитов
       *[other] списано { $credits } кредита
    }.
refunded-to-you = Вам возвращено { $stars } ⭐{ $credits ->
        [0] .
        [one] ; { $credits } кредит списан с баланса.
        [few] ; { $credits } кредита списаны с баланса.
        [many] ; { $credits } кредитов списано с баланса.
       *[other] ; { $credits } кредита списано с баланса.
    }
refunded-by-card = Вам возвращено { $amount } ₽{ $credits ->
        [0] .
        [one] ; { $credits } кредит списан с баланса.
        [few] ; { $credits } кредита списаны с баланса.
        [many] ; { $credits } кредитов списано с баланса.
       *[other] ; { $credits } кредита списано с баланса.
    }
card-refund-done = Готово: ЮKassa вернула { $amount } ₽, { $credits ->
        [one] списан { $credits } кредит
        [few] списано { $credits } кредита
        [many] списано { $credits } кредитов
       *[other] списано { $credits } кредита
    }.
card-refund-failed = ЮKassa не сделала возврат: { $reason }. Ничего не изменено.
card-refund-pending = ЮKassa приняла возврат и ещё проводит его; кредиты спишутся, когда она сообщит об успехе.

## Pictures

ask-image-prompt = Что нарисовать? Опишите картинку в ответе на это сообщение.
prompt-too-long = Слишком длинное описание: не больше { $max } { $max ->
        [one] символа
        [few] символов
        [many] символов
       *[other] символа
    }.
not-enough-for-image = Не хватает кредитов: нужно { $price }, на балансе { $available }. Пополните баланс и попробуйте снова.
# $free is "yes" when a free picture of the month pays for it; $edit is "yes" for an edit of a photo.
image-queued = Принято. Стоимость: { $price } { $price ->
        [one] кредит
        [few] кредита
        [many] кредитов
       *[other] кредита
    }{ $free ->
        [yes] {" "}(бесплатная картинка этого месяца)
       *[no] {""}
    }. { $edit ->
        [yes] Редактирую фото…
       *[no] Рисую…
    }
image-ready = «{ $prompt }»
    Готово. { $charged ->
        [one] Списан { $charged } кредит
        [few] Списано { $charged } кредита
        [many] Списано { $charged } кредитов
       *[other] Списано { $charged } кредита
    }.
full-quality-button = Оригинал без сжатия
image-expired = Эта картинка уже удалена из хранилища.
idea-already-picked = Эту картинку я уже рисую или нарисовал — она в этом чате. Чтобы нарисовать ещё раз, отправьте её с /image.
spoken-choose = Записи расшифровываются на языке: { $current }. Выберите язык или доверьте определение мне:
spoken-auto = Определять автоматически
spoken-set = Готово: записи будут расшифровываться на языке: { $language }.
edit-how-to = Чтобы отредактировать фото, пришлите его с подписью, что изменить, или ответьте на фото командой /edit <что изменить>.
not-an-image = Это не картинка. Для редактирования пришлите фото в JPEG, PNG или WebP.
image-too-big = Фото слишком большое: для редактирования — до { $limit_mb } МБ.
image-failed = Не получилось сделать картинку: { $reason }. Деньги не списаны.
idea-how-to = Опишите идею после команды, например: /idea кот-космонавт. Я предложу три промпта.
idea-queued = Придумываю промпты… Стоимость: { $price } { $price ->
        [one] кредит
        [few] кредита
        [many] кредитов
       *[other] кредита
    }.
# $ideas is the numbered list, one idea a line.
idea-list =
    Варианты — нажмите кнопку, чтобы нарисовать:
    { $ideas }
    { $charged ->
        [one] Списан { $charged } кредит
        [few] Списано { $charged } кредита
        [many] Списано { $charged } кредитов
       *[other] Списано { $charged } кредита
    }.
idea-failed = Не получилось придумать промпты: { $reason }. Деньги не списаны.

image-failure-refused = сервис отклонил запрос по своим правилам безопасности — попробуйте описать иначе
image-failure-not-an-image = это не картинка в JPEG, PNG или WebP
image-failure-too-big = фото слишком большое
image-failure-unavailable = сервис картинок сейчас недоступен

## Summaries of transcripts

summary-button = Краткое содержание
summary-queued = Готовлю краткое содержание и список задач… Стоимость: { $price } { $price ->
        [one] кредит
        [few] кредита
        [many] кредитов
       *[other] кредита
    }.
# $summary is the model's answer, several lines; $partial is "yes" when only the beginning of a long transcript was summarised.
summary-ready =
    Краткое содержание

    { $summary }

    { $partial ->
        [yes] Расшифровка длинная, это содержание её начала.{" "}
       *[no] {""}
    }{ $charged ->
        [one] Списан { $charged } кредит
        [few] Списано { $charged } кредита
        [many] Списано { $charged } кредитов
       *[other] Списано { $charged } кредита
    }.
summary-stored =
    Краткое содержание (уже было готово, бесплатно)

    { $summary }{ $partial ->
        [yes] {"\u000A\u000A"}Расшифровка длинная, это содержание её начала.
       *[no] {""}
    }
summary-in-progress = Краткое содержание этой расшифровки уже готовится — пришлю его ответом на неё.
not-enough-for-summary = Не хватает кредитов на краткое содержание: нужно { $price }, на балансе { $available }. Пополните баланс и нажмите кнопку ещё раз.
summary-failed = Не получилось сделать краткое содержание: { $reason }. Деньги не списаны.

summary-failure-unavailable = сервис сейчас недоступен, попробуйте позже
summary-failure-refused = сервис отказался обрабатывать эту расшифровку
summary-failure-no-transcript = этой расшифровки больше нет
summary-failure-empty = в расшифровке нет слов

## The command menu

command-start = Начать
command-help = Что умеет бот и сколько это стоит
command-balance = Баланс и бесплатные минуты
command-history = История операций
command-buy = Пополнить баланс
command-plan = Тарифы: минуты и картинки каждый месяц
command-image = Нарисовать картинку
command-idea = Идеи для картинки
command-referral = Пригласить друзей
command-lang = Язык
command-language = Язык расшифровки
command-cancel = Отменить файл в очереди
command-mydata = Копия ваших данных
command-deletemydata = Удалить ваши данные
command-paysupport = Поддержка по платежам и возврат
command-terms = Условия использования

## Группы

command-transcribe = Расшифровать запись, на которую вы отвечаете
command-auto = on|off: расшифровывать все голосовые (админы)

group-intro =
    Здравствуйте! Я превращаю голосовые, аудио, видео и кружочки в текст.

    • Ответьте на запись командой /transcribe (или упомяните @{ $bot } в ответе) — я пришлю расшифровку ответом на неё. Платит тот, кто просит, со своего баланса у меня: { $free_minutes ->
        [0] {""}
       *[other] сначала { $free_minutes } мин. в день бесплатно, потом{" "}
    }{ $price_per_minute } { $price_per_minute ->
        [one] кредит
        [few] кредита
        [many] кредитов
       *[other] кредита
    } за минуту.
    • Админам: /auto on — расшифровывать все новые голосовые и кружочки здесь, за счёт админа, который включил, до { $auto_minutes } мин. в день; /auto off — выключить.

    Что я вижу: в режиме приватности Telegram (он включён по умолчанию) — только команды, ответы на мои сообщения и сообщения с упоминанием меня, но не вашу переписку. Для /auto мне нужно видеть голосовые: сделайте меня админом группы.
    Баланс и пополнение — в личном чате с @{ $bot }.
transcribe-how-to = Ответьте на голосовое, аудио, видео или кружочек командой /transcribe@{ $bot }, и я его расшифрую.
group-not-enough-credit = { $first_name }, на эту запись не хватает кредитов. Пополнить баланс можно в личном чате со мной.
group-transcription-unaffordable = Запись длится { $duration } и стоит { $price } { $price ->
        [one] кредит
        [few] кредита
        [many] кредитов
       *[other] кредита
    }: кредитов не хватает. Ничего не списано. Пополнить баланс можно в личном чате со мной.
private-only = Баланс и историю я показываю только в личном чате. Откройте его:
open-private-button = Открыть личный чат
group-slow-down = Слишком много запросов в этом чате. Подождите минуту.
auto-usage = /auto on — расшифровывать все новые голосовые здесь (за ваш счёт, вы админ); /auto off — выключить.
auto-admins-only = Включать и выключать автоматическую расшифровку могут только админы группы.
group-sender-unknown = Сообщение отправлено от имени группы — я не вижу, кто просит и кто платит. Отправьте его от своего имени: выключите «Анонимность» в правах администратора или попросите другого участника.
auto-on = Автоматическая расшифровка включена: все новые голосовые и кружочки здесь расшифровываются, платит { $payer }, до { $minutes } мин. в день.{ $sees_all ->
        [yes] {""}
       *[no] {" "}Но обычные голосовые я пока не вижу: сделайте меня админом группы (или выключите режим приватности в @BotFather).
    }
auto-off = Автоматическая расшифровка выключена.
auto-cap-reached = Этот чат исчерпал сегодняшние { $minutes } мин. автоматической расшифровки. Она продолжится завтра; /transcribe в ответ на запись работает.
auto-payer-out-of-credit = Автоматическая расшифровка приостановлена до завтра: у админа, который её включил, закончились кредиты. /transcribe в ответ на запись работает.

pay-support =
    Поддержка по платежам.

    Если оплата не зачислилась, кредиты списались неверно или вы хотите вернуть деньги, напишите одним сообщением:
    /paysupport <что случилось>
    Мы передадим вопрос команде и ответим в этом чате. Все пополнения и списания — в /history.

    Вернуть можно неизрасходованные кредиты покупки: деньги вернутся тем же способом, которым вы платили (Telegram Stars или карта через ЮKassa). Условия — /terms.{ $contact ->
        [none] {""}
       *[other]
            {""}

            Контакты: { $contact }
    }
pay-support-answer =
    Ответ поддержки:

    { $answer }
pay-support-sent = Передали ваш вопрос команде. Ответим в этом чате.
pay-support-slow-down = Вы пишете слишком часто. Подождите минуту и отправьте вопрос одним сообщением.
pay-support-unavailable = Сейчас некому передать вопрос. Попробуйте позже.
terms = { $url ->
        [none]
            Условия использования.

            • Кредиты покупаются пакетами и не сгорают; цена каждой операции видна до её начала и в /history.
            • Расшифровка оплачивается по фактической длительности записи, картинка — за каждую готовую картинку. Если задание не выполнено, кредиты возвращаются на баланс.
            • Неизрасходованные кредиты покупки можно вернуть: напишите /paysupport. Деньги возвращаются тем же способом оплаты.
            • Записи хранятся ограниченное время; /mydata — копия ваших данных, /deletemydata — удаление.
       *[other] Условия использования: { $url }
    }
