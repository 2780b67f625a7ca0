"""Builds the texts of token_estimate.jsonl (the token-estimate corpus, docs/limits.md).

Usage: python3 make_token_corpus.py > texts.jsonl, then add the real token counts with
`cargo run -p gateway-policy --example token_corpus -- count texts.jsonl token_estimate.jsonl`
(tiktoken's o200k and cl100k tables via tiktoken-rs).

Texts come from this repository (docs prose, Rust, Python, TypeScript, Java, Lua, SQL, TOML,
shell, the OpenAPI document) picked with a fixed seed, plus written samples of other scripts
(CJK, Cyrillic, Arabic, Hebrew, Greek, Devanagari, Thai), emoji, numbers, URLs, identifiers
and chat tool definitions, calls and results. Deterministic: the same tree gives the same file."""
import glob, json, os, random, sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "../../.."))
rng = random.Random(28)
out = []


def add(kind, text):
    text = text.strip("\n")
    if text.strip():
        out.append({"kind": kind, "text": text})


def files(pattern):
    return sorted(glob.glob(os.path.join(ROOT, pattern), recursive=True))


def line_slices(kind, paths, count, lo=12, hi=45):
    paths = [p for p in paths if os.path.getsize(p) > 400]
    for p in rng.sample(paths, min(count, len(paths))):
        lines = open(p, encoding="utf-8").read().splitlines()
        n = rng.randint(lo, hi)
        start = rng.randint(0, max(0, len(lines) - n))
        add(kind, "\n".join(lines[start:start + n]))


# English prose: paragraphs of the docs without tables, code or headings.
paras = []
for p in files("docs/*.md"):
    for block in open(p, encoding="utf-8").read().split("\n\n"):
        b = block.strip()
        if len(b) > 200 and not b.startswith(("|", "#", "```", "-", "    ")) and "```" not in b:
            paras.append(b)
for b in rng.sample(paras, 34):
    add("prose-en", b)
# Markdown with tables and lists.
tables = []
for p in files("docs/*.md"):
    for block in open(p, encoding="utf-8").read().split("\n\n"):
        if block.startswith("|") and len(block) > 300:
            tables.append(block)
for b in rng.sample(tables, 6):
    add("markdown-table", b)

line_slices("code-rust", files("crates/**/*.rs"), 18)
line_slices("code-python", files("xtask/**/*.py") + files("sdks/python/**/*.py"), 8)
line_slices("code-typescript", files("sdks/typescript/**/*.ts"), 7)
line_slices("code-java", files("sdks/java/**/*.java"), 6)
line_slices("code-lua", files("crates/**/*.lua"), 3)
line_slices("code-sql", files("crates/**/*.sql"), 4)
line_slices("config-toml", files("**/*.toml"), 5)
line_slices("code-shell", files("**/*.sh"), 2)

# JSON: pretty slices of the OpenAPI document, and compact objects from it.
api = json.load(open(os.path.join(ROOT, "docs/openapi.json"), encoding="utf-8"))
schemas = sorted(api["components"]["schemas"].items())
for name, schema in rng.sample(schemas, 6):
    add("json-pretty", json.dumps({name: schema}, indent=2, ensure_ascii=False))
for name, schema in rng.sample(schemas, 6):
    add("json-compact", json.dumps({name: schema}, separators=(",", ":"), ensure_ascii=False))

WRITTEN = {
    "cjk-zh": [
        "大型语言模型网关位于应用程序和模型提供商之间，负责身份验证、速率限制、成本核算和内容安全检查。每个请求在转发之前都会经过一系列策略阶段。",
        "如果上游服务在三十秒内没有响应，网关会将请求转发到同一模型的下一个部署，并记录这次故障，以便熔断器在错误率过高时暂时停止发送流量。",
        "今天北京的天气晴朗，最高气温二十六度，最低气温十四度。下午有微风，适合户外活动。明天预计会有小雨，请记得带伞。",
        "请帮我把下面这段话翻译成英文：我们的团队正在开发一个新的数据分析平台，预计下个季度上线，届时将支持实时报表和自定义仪表盘。",
        "机器学习模型的训练通常需要大量标注数据。为了降低成本，研究人员提出了半监督学习、自监督学习和主动学习等多种方法。",
        "用户：你好，我想查询一下我的订单状态。\n助手：您好！请提供您的订单号，我会立即为您查询。\n用户：订单号是 20261207-8841。",
    ],
    "cjk-ja": [
        "このゲートウェイは、複数のプロバイダーへのリクエストを一つのAPIで扱えるようにします。キーごとの利用制限や予算の上限も設定できます。",
        "東京は今日、朝から雨が降っています。午後には晴れる見込みですが、夜は気温が下がるので、上着を持って出かけてください。",
        "プログラムを実行すると、設定ファイルが読み込まれ、各モデルのデプロイメントが初期化されます。エラーがあれば、その場所が表示されます。",
        "申し訳ありませんが、そのご質問にはお答えできません。別のことでお手伝いできることがあれば、お気軽にお知らせください。",
        "カタカナの多い文章：データベース、サーバー、クライアント、ネットワーク、セキュリティ、パフォーマンス、メモリ、キャッシュ。",
    ],
    "cjk-ko": [
        "이 게이트웨이는 인증, 속도 제한, 비용 계산 및 콘텐츠 검사를 한곳에서 처리합니다. 모든 요청은 정책 단계를 거쳐 상위 서비스로 전달됩니다.",
        "서울의 오늘 날씨는 맑고 최고 기온은 이십삼 도입니다. 내일은 비가 올 예정이니 우산을 준비하세요.",
        "안녕하세요! 주문하신 상품은 내일 오후에 도착할 예정입니다. 배송 조회는 앱의 주문 내역에서 확인하실 수 있습니다.",
        "한국어 문장은 조사와 어미가 붙어서 단어의 형태가 다양하게 바뀝니다. 그래서 토큰 수를 정확히 추정하기가 어렵습니다.",
    ],
    "cyrillic": [
        "Шлюз для языковых моделей проверяет ключи доступа, ограничивает частоту запросов и считает расходы каждого арендатора. Если провайдер недоступен, запрос уходит к следующему развёртыванию.",
        "Привет! Не могли бы вы объяснить, как работает ограничение токенов в минуту? Я получаю ошибку 429, хотя отправил всего несколько запросов.",
        "В понедельник в Москве ожидается облачная погода, температура воздуха от плюс пяти до плюс девяти градусов, ветер северо-западный, умеренный.",
        "Функція повертає список користувачів, відсортований за датою реєстрації. Якщо параметр не задано, використовується значення за замовчуванням.",
        "Настройка `[limits]` задаёт лимиты для каждого ключа: rpm = 60, tpm = 100000. Превышение лимита возвращает ответ 429 с заголовком Retry-After.",
        "Добрий день! Підкажіть, будь ласка, чи можна змінити адресу доставки після оформлення замовлення? Дякую за допомогу.",
        "Здравей! Благодаря за бързия отговор. Ще изпратя документите утре сутрин, заедно с подписания договор.",
    ],
    "arabic": [
        "تعمل بوابة النماذج اللغوية بين التطبيقات ومزودي النماذج، فتتحقق من مفاتيح الوصول وتحدد معدل الطلبات وتحسب تكلفة كل مستأجر.",
        "مرحبا، أريد أن أعرف حالة طلبي رقم ٤٥٦٧. لقد تم الدفع قبل ثلاثة أيام ولم أتلق أي رسالة تأكيد حتى الآن.",
        "الطقس اليوم في القاهرة مشمس وحار، ودرجة الحرارة العظمى خمس وثلاثون درجة مئوية. ينصح بشرب الكثير من الماء.",
        "يرجى ترجمة النص التالي إلى اللغة الإنجليزية مع الحفاظ على المصطلحات التقنية كما هي دون تغيير.",
        "نموذج التعلم الآلي يحتاج إلى بيانات تدريب كثيرة، ولذلك يستخدم الباحثون أساليب مختلفة لتقليل تكلفة وسم البيانات.",
    ],
    "other-scripts": [
        "שלום! אני רוצה לבטל את ההזמנה שלי ולקבל החזר כספי. מספר ההזמנה הוא 88213. תודה רבה על העזרה.",
        "Η πύλη ελέγχει τα κλειδιά πρόσβασης, περιορίζει τον ρυθμό των αιτημάτων και υπολογίζει το κόστος κάθε πελάτη.",
        "नमस्ते! कृपया मुझे बताइए कि मेरे खाते की सीमा कैसे बढ़ाई जा सकती है। मुझे हर दिन अधिक अनुरोध भेजने की आवश्यकता है।",
        "สวัสดีครับ ผมต้องการสอบถามเกี่ยวกับการจัดส่งสินค้า ไม่ทราบว่าจะได้รับภายในกี่วันครับ",
        "Χθες το βράδυ βρέξε πολύ στην Αθήνα, αλλά σήμερα ο καιρός είναι καθαρός και ζεστός.",
    ],
    "latin-extended": [
        "Das Gateway prüft die Zugangsschlüssel, begrenzt die Anfragerate und berechnet die Kosten jedes Mandanten. Fällt ein Anbieter aus, übernimmt die nächste Bereitstellung.",
        "Bonjour ! Pourriez-vous m'expliquer pourquoi ma requête a été refusée ? J'ai reçu une erreur « trop de requêtes » alors que je n'en ai envoyé que trois.",
        "¿Podrías resumir este artículo en tres frases? Necesito una versión breve para la reunión de mañana a las nueve y media.",
        "Olá! Gostaria de saber se é possível alterar o endereço de entrega depois de finalizar a compra. Obrigado pela atenção.",
        "Żółć gęślą jaźń. Proszę o przesłanie faktury za październik na adres księgowości, najpóźniej do piątku.",
        "Türkiye'de bugün hava güneşli ve sıcak olacak; akşam saatlerinde kuzeyden hafif bir rüzgâr bekleniyor.",
        "Tiếng Việt có nhiều dấu thanh: trời hôm nay đẹp quá, chúng ta đi dạo công viên nhé.",
    ],
    "emoji": [
        "Great job team!!! 🎉🎉🎉 The release is out 🚀 and the dashboards look 👌. Pizza on Friday 🍕🍕?",
        "😀😃😄😁😆😅🤣😂🙂🙃😉😊😇🥰😍🤩😘😗☺️😚😙🥲😋😛😜🤪😝🤑🤗🤭🤫🤔",
        "Weather: ☀️ Mon 24°, 🌤️ Tue 22°, 🌧️ Wed 17°, ⛈️ Thu 15°, 🌈 Fri 19°. Pack an ☂️!",
        "👨‍👩‍👧‍👦 family, 🏳️‍🌈 flag, 👍🏽 thumbs, 🇫🇷🇯🇵🇧🇷 flags: emoji sequences joined by zero-width joiners.",
        "status: ✅ tests passed, ⚠️ 2 warnings, ❌ 0 failures — ⏱️ 12.4s total ✨",
    ],
}
for kind, texts in WRITTEN.items():
    for t in texts:
        add(kind, t)

# Numbers: tables, amounts, dates, phone numbers, floats.
for _ in range(4):
    rows = ["date,region,requests,tokens,cost_usd,p99_ms"]
    for _ in range(rng.randint(8, 20)):
        rows.append(f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d},{rng.choice(['eu-west-1', 'us-east-2', 'ap-south-1'])},"
                    f"{rng.randint(10, 999999)},{rng.randint(100, 99999999)},{rng.uniform(0, 5000):.4f},{rng.uniform(0.1, 900):.2f}")
    add("numbers-csv", "\n".join(rows))
add("numbers", " ".join(str(rng.randint(0, 10 ** rng.randint(1, 12))) for _ in range(80)))
add("numbers", ", ".join(f"{rng.uniform(-1000, 1000):.6f}" for _ in range(50)))
add("numbers", "Call +1 (415) 555-0134 or +44 20 7946 0958; invoice INV-2026-000481 of 1,234,567.89 EUR due 31.12.2026, IBAN DE89 3704 0044 0532 0130 00.")
add("numbers", "The embedding: [" + ", ".join(f"{rng.gauss(0, 0.05):.8f}" for _ in range(64)) + "]")
add("numbers", "\n".join(f"{i}. {rng.randint(1, 9999)} x {rng.randint(1, 99)} = ?" for i in range(1, 30)))

# URLs and identifiers.
hosts = ["api.openai.com", "example.com", "docs.rs", "github.com", "storage.googleapis.com", "login.microsoftonline.com"]
for _ in range(5):
    add("urls", "\n".join(
        f"https://{rng.choice(hosts)}/{'/'.join(rng.choice(['v1', 'models', 'repos', 'o', 'oauth2', 'chat', 'items', 'b', 'gw']) for _ in range(rng.randint(1, 4)))}"
        f"?id={rng.getrandbits(64):x}&page={rng.randint(1, 99)}&q={rng.choice(['token+limits', 'caf%C3%A9', 'a%20b', 'rust'])}"
        for _ in range(rng.randint(4, 12))))
add("ids", "\n".join(f"{rng.getrandbits(128):032x}" for _ in range(20)))
add("ids", "\n".join(f"sk-gw-{''.join(rng.choice('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789') for _ in range(40))}" for _ in range(10)))
add("ids", "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") for _ in range(1200)) + "==")
add("logs", "\n".join(
    f"2026-12-07T00:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999999):06d}Z  {rng.choice(['INFO', 'WARN', 'ERROR'])} "
    f"gateway_app::http: {rng.choice(['call served', 'upstream retry', 'limit refused', 'cache hit'])} request_id=req_{rng.getrandbits(48):012x} "
    f"status={rng.choice([200, 200, 429, 502])} duration_ms={rng.uniform(0, 3000):.1f}" for _ in range(15)))

# Chat with tools: definitions (as serialized for the estimate), calls' arguments, results.
TOOLS = [
    ("get_weather", "Get the current weather for a city", {"city": ("string", "City name, e.g. Paris"), "unit": ("string", "celsius or fahrenheit")}),
    ("search_orders", "Search the customer's orders by status and date range", {"status": ("string", "open, shipped or cancelled"), "from": ("string", "ISO date"), "to": ("string", "ISO date"), "limit": ("integer", "at most 100")}),
    ("run_sql", "Run a read-only SQL query against the analytics warehouse", {"query": ("string", "A single SELECT statement")}),
    ("send_email", "Send an email on behalf of the user", {"to": ("string", "recipient address"), "subject": ("string", "subject line"), "body": ("string", "plain-text body")}),
    ("create_ticket", "Open a support ticket", {"title": ("string", "short summary"), "priority": ("string", "low, normal, high"), "tags": ("array", "labels")}),
    ("convert_currency", "Convert an amount between currencies at today's rate", {"amount": ("number", "the amount"), "from": ("string", "ISO 4217 code"), "to": ("string", "ISO 4217 code")}),
]


def tool(name, desc, params):
    props = {k: {"type": t, "description": d} for k, (t, d) in params.items()}
    return {"type": "function", "function": {"name": name, "description": desc, "parameters": {
        "type": "object", "properties": props, "required": list(params)[:1]}}}


for _ in range(6):
    chosen = rng.sample(TOOLS, rng.randint(1, 4))
    add("chat-tools", json.dumps([tool(*t) for t in chosen], separators=(",", ":"), ensure_ascii=False))
for args in [
    {"city": "São Paulo", "unit": "celsius"},
    {"status": "shipped", "from": "2026-11-01", "to": "2026-11-30", "limit": 25},
    {"query": "SELECT tenant, sum(cost_usd) AS spend FROM usage WHERE day >= '2026-11-01' GROUP BY tenant ORDER BY spend DESC LIMIT 10"},
    {"to": "ops@example.com", "subject": "Nightly backup failed", "body": "The backup of 02:00 failed: disk full on /var/lib/gateway. Please free space and re-run."},
    {"amount": 1250.5, "from": "EUR", "to": "JPY"},
]:
    add("chat-tool-call", json.dumps(args, ensure_ascii=False))
add("chat-tool-result", json.dumps({"city": "São Paulo", "temperature": 27.4, "conditions": "partly cloudy", "humidity": 0.71, "wind_kmh": 12}))
add("chat-tool-result", json.dumps({"orders": [{"id": f"ord_{rng.getrandbits(40):010x}", "status": "shipped", "total": round(rng.uniform(5, 500), 2), "items": rng.randint(1, 9)} for _ in range(8)]}, indent=1))
add("chat-tool-result", "tenant,spend\nacme,1834.22\nglobex,902.10\ninitech,455.87\numbrella,120.03\n")
add("chat", "You are a helpful assistant for an online bookstore. Answer briefly, in the customer's language, and never reveal internal order notes.")
add("chat", "Can you check whether my order from last Tuesday has shipped? I ordered three books and a gift card.")
add("chat", "Summarise the following support conversation in two sentences and list the action items as bullet points.")
add("chat", "hi")
add("chat", "What's 2+2? Reply with just the number.")

# Mixed: code with non-English comments, markdown with code.
add("mixed", "// 计算每个租户的总成本\nfn total_cost(rows: &[Row]) -> f64 {\n    rows.iter().map(|r| r.cost_usd).sum() // 单位：美元\n}")
add("mixed", "# Настройка\n\n```toml\n[limits.key]\nrpm = 60   # запросов в минуту\ntpm = 100000\n```\n\nПосле изменения перезапустите шлюз.")
add("mixed", "def greet(name):\n    # 名前を受け取って挨拶を返す\n    return f\"こんにちは、{name}さん！\"")
add("whitespace", "\n".join(" " * (4 * rng.randint(0, 6)) + rng.choice(["if x:", "return y", "}", "{", "else:", "pass"]) for _ in range(40)))
add("whitespace", "a\n\n\n\nb\t\t\tc          d\r\n\r\ne" * 5)

for row in out:
    sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
print(f"{len(out)} texts", file=sys.stderr)
