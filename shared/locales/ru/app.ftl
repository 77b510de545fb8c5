## Everything the Mini App page shows, in Russian. The server renders each
## message with every variable replaced by the literal text `{name}` and
## sends them all in /app/texts.json; the page puts the values in. So no
## selectors here: texts are phrased to need no plural agreement («Баланс,
## кредиты» over the number, «Кредитов: 330»). Numbers arrive formatted with
## a decimal comma.

page-title = Личный кабинет
page-loading = Загрузка…
page-retry = Повторить
page-back = ‹ Назад
page-more = Показать ещё
page-copied = Скопировано
page-copy-failed = Не получилось скопировать — выделите текст и скопируйте вручную.
page-size-mb = { $mb } МБ
page-size-kb = { $kb } КБ

## Outside Telegram and sign-in

page-outside-title = Откройте приложение из бота
page-outside-text = Эта страница работает внутри Telegram. Откройте чат с ботом и нажмите «Открыть приложение».
page-signin-failed = Не удалось войти

## Home

page-home-hello = Здравствуйте, { $name }!
page-home-hello-anon = Здравствуйте!
page-balance-label = Баланс, кредиты
page-balance-held = В резерве: { $credits }
page-free-minutes = Осталось бесплатно сегодня, мин: { $minutes }
page-free-images = Бесплатных картинок в этом месяце: { $count }
page-plan-renews = Тариф { $name }: осталось { $minutes } мин и картинок: { $count }, продлится { $until }
page-plan-ends = Тариф { $name }: осталось { $minutes } мин и картинок: { $count }, закончится { $until }
page-nav-upload = Загрузить большой файл
page-nav-transcripts = Расшифровки
page-nav-images = Картинки
page-nav-history = История операций
page-nav-buy = Пополнить баланс
page-nav-settings = Настройки
page-referral-title = Пригласите друзей
page-referral-text = Поделитесь ссылкой: когда друг впервые пополнит баланс, вы получите бонусные кредиты.
page-referral-copy = Скопировать ссылку
page-referral-copied = Ссылка скопирована
page-referral-invited = Приглашено: { $count }
page-referral-paid = Оплатили: { $count }
page-referral-earned = Заработано кредитов: { $credits }

## Transcripts

page-transcripts-title = Расшифровки
page-search-label = Поиск по расшифровкам
page-search-placeholder = Слова из текста
page-search-button = Найти
page-transcripts-empty = Расшифровок пока нет — пришлите боту голосовое сообщение.
page-transcripts-not-found = Ничего не нашлось. Попробуйте другие слова.
page-transcript-no-text = Без текста
page-transcript-title = Расшифровка
page-transcript-empty = В этой записи не нашлось речи.
page-download-txt = Текст .txt
page-download-srt = Субтитры .srt
page-download-vtt = Субтитры .vtt
page-download-audio = Аудио
page-downloads-hint = Ссылки для скачивания действуют { $minutes } мин.
page-summary-title = Краткое содержание
page-summary-partial = Расшифровка длинная, это содержание её начала.
page-copy-text = Скопировать текст

## Pictures

page-images-title = Картинки
page-images-hint = Нажмите на картинку, чтобы открыть оригинал без сжатия.
page-images-empty = Картинок пока нет — попросите бота нарисовать: /image и описание.
page-image-kept-until = Хранится до { $date }
page-image-edited = Отредактирована
page-image-edit = Изменить
page-image-edit-label = Что изменить?
page-image-edit-placeholder = Например: сделай фон синим
page-image-edit-submit = Отправить

## A job in progress (an upload or a picture edit)

page-job-queued = В очереди — скоро начну.
page-job-running = В работе…
page-job-succeeded = Готово!
page-job-failed = Не получилось.
page-job-cancelled = Отменено.
page-job-undeliverable = Готово, но отправить в чат не удалось — результат сохранён здесь.
page-job-unknown = Состояние: { $status }
page-job-price = Стоимость, кредиты: { $price }
page-job-charged = Списано кредитов: { $price }
page-job-not-charged = Деньги не списаны.
page-job-later-transcript = Можно закрыть приложение: расшифровка придёт в чат.
page-job-later-image = Можно закрыть приложение: картинка придёт в чат.
page-job-sent-transcript = Расшифровка также отправлена вам в чат.
page-job-sent-image = Картинка также отправлена вам в чат и появится в галерее.
page-job-open-transcript = Открыть расшифровку
page-job-error-corrupt = Файл повреждён.
page-job-error-unsupported-format = Этот формат я не читаю.
page-job-error-no-audio = В файле нет звука.
page-job-error-too-long = Запись слишком длинная.
page-job-error-too-big = Файл слишком большой.
page-job-error-provider-unavailable = Сервис сейчас недоступен, попробуйте чуть позже.
page-job-error-not-enough-credit = На балансе не хватает кредитов.
page-job-error-internal = У нас что-то сломалось, попробуйте ещё раз.
page-job-error-content-policy = Сервис отклонил запрос по своим правилам безопасности — попробуйте описать иначе.
page-job-error-not-an-image = Это не картинка в JPEG, PNG или WebP.
page-job-error-other = Попробуйте ещё раз.

## History

page-history-title = История операций
page-history-empty = Операций пока нет.
page-history-transcription = Расшифровка
page-history-image = Картинка
page-history-idea = Идеи для картинки
page-history-summary = Краткое содержание
page-history-purchase = Пополнение
page-history-bonus = Бонус
page-history-hold = Резерв
page-history-capture = Списание
page-history-release = Возврат резерва
page-history-refund = Возврат
page-history-adjustment = Корректировка
page-history-reversal = Отмена пополнения
page-history-other = Операция
page-history-held = в резерве: { $credits }
page-status-queued = в очереди
page-status-running = в работе
page-status-succeeded = готово
page-status-failed = не получилось
page-status-cancelled = отменено
page-status-undeliverable = не доставлено в чат
page-method-yookassa = YooKassa
page-method-telegram = карта в Telegram
page-method-stars = Telegram Stars
page-payment-pending = ожидает оплаты
page-payment-succeeded = оплачен
page-payment-canceled = отменён
page-payment-refunded = возвращён

## Buying credits

page-buy-title = Пополнить баланс
page-buy-intro = Выберите пакет. Кредиты придут сразу после оплаты.
page-buy-empty = Пакетов сейчас нет.
page-package-credits = Кредитов: { $credits }
page-package-bonus = { $credits } + бонус { $percent }%
page-pay-yookassa = Картой или СБП — { $price } ₽
page-pay-stars = Звёздами — { $stars } ⭐
page-checkout-waiting = Ждём оплату… Баланс обновится сам, как только она придёт.
page-checkout-crediting = Оплата прошла, зачисляю кредиты…
page-checkout-done = Оплата получена! Баланс, кредиты: { $balance }
page-checkout-timeout = Оплата пока не пришла. Если вы оплатили, кредиты появятся чуть позже — бот пришлёт сообщение.
page-checkout-cancelled = Оплата отменена, деньги не списаны.
page-checkout-failed = Оплата не прошла. Попробуйте ещё раз или выберите другой способ.

## Upload

page-upload-title = Загрузить запись
page-upload-intro = Здесь можно отправить на расшифровку файл больше 20 МБ — такие Telegram не даёт ботам скачать. Текст появится здесь и придёт в чат.
page-upload-limit = Размер файла — до { $mb } МБ.
page-upload-choose = Выбрать файл
page-upload-choose-other = Выбрать другой файл
page-upload-start = Загрузить и расшифровать
page-upload-sending = Загружаю…
page-upload-checking = Проверяю файл…
page-upload-cancel = Отменить загрузку

## Settings

page-settings-title = Настройки
page-settings-language = Язык бота и приложения
page-settings-transcription = Язык записей
page-settings-transcription-hint = Если записи всегда на одном языке, выберите его — расшифровка будет точнее.
page-settings-saved = Сохранено
page-ui-ru = Русский
page-ui-en = English
page-lang-auto = Определять автоматически
page-lang-ru = Русский
page-lang-en = Английский
page-lang-uk = Украинский
page-lang-kk = Казахский
page-lang-be = Белорусский
page-lang-uz = Узбекский
page-lang-de = Немецкий
page-lang-fr = Французский
page-lang-es = Испанский
page-lang-it = Итальянский
page-lang-pt = Португальский
page-lang-tr = Турецкий
page-lang-pl = Польский
page-lang-nl = Нидерландский
page-lang-zh = Китайский
page-lang-ja = Японский
page-lang-ko = Корейский
page-lang-ar = Арабский
page-lang-hi = Хинди

## Errors: page-error-<code> for the API's `error` codes (underscores as hyphens)

page-error-generic = Что-то пошло не так. Попробуйте ещё раз.
page-error-server = Не получилось: { $message }
page-error-network = Нет связи с сервером. Проверьте интернет и попробуйте ещё раз.
page-error-internal = Что-то пошло не так на нашей стороне. Деньги не списаны, попробуйте ещё раз.
page-error-signin = Не удалось войти. Закройте приложение и откройте его снова из бота.
page-error-expired = Сессия устарела. Закройте приложение и откройте его снова из бота.
page-error-too-many-requests = Слишком много запросов. Подождите минуту, пожалуйста.
page-error-too-many-jobs = У вас уже много файлов в очереди. Дождитесь результата и загрузите следующий.
page-error-too-big = Файл слишком большой.
page-error-too-big-limit = Файл слишком большой: можно до { $mb } МБ.
page-error-insufficient-funds = Не хватает кредитов. Пополните баланс и попробуйте снова.
page-error-not-audio = Это не аудио и не видео. Выберите запись с голосом.
page-error-empty = Файл пустой. Выберите другой.
page-error-incomplete = Файл загрузился не полностью. Попробуйте ещё раз.
page-error-part-failed = Не удалось загрузить файл. Попробуйте ещё раз.
page-error-not-found = Не нашлось — возможно, это уже удалено.
page-error-unknown-package = Такого пакета больше нет. Откройте список пакетов заново.
page-error-yookassa-unavailable = Оплата картой сейчас недоступна — можно заплатить звёздами.
page-error-provider-failed = Платёжный сервис не ответил. Попробуйте чуть позже.
page-error-prompt-too-long = Слишком длинное описание. Сократите его, пожалуйста.
