"""Demo catalogue data for seeding a Fanbase store.

Pure data: brands, categories, stock locations and products (with variants and
per-location stock).  All model names are fictional-but-plausible; prices are in
fen (1 CNY = 100 fen).  Consumed by the demo seeding function.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoBrand:
    slug: str
    name: str
    name_en: str


@dataclass(frozen=True)
class DemoCategory:
    slug: str
    name: str
    name_en: str


@dataclass(frozen=True)
class DemoVariant:
    sku: str
    name: str
    name_en: str
    price_fen: int
    cost_fen: int
    stock: dict[str, int]  # location code -> on_hand


@dataclass(frozen=True)
class DemoProduct:
    slug: str
    name: str
    name_en: str
    brand: str  # DemoBrand.slug
    category: str  # DemoCategory.slug
    description: str
    description_en: str
    variants: tuple[DemoVariant, ...]


@dataclass(frozen=True)
class DemoLocation:
    code: str
    name: str
    name_en: str
    kind: str  # "warehouse" | "store"
    priority: int  # lower = allocate first


# ---------------------------------------------------------------------------
# Brands, categories, locations
# ---------------------------------------------------------------------------

BRANDS: tuple[DemoBrand, ...] = (
    DemoBrand(slug="xiaomi", name="小米", name_en="Xiaomi"),
    DemoBrand(slug="redmi", name="红米", name_en="Redmi"),
)

CATEGORIES: tuple[DemoCategory, ...] = (
    DemoCategory(slug="phones", name="手机", name_en="Phones"),
    DemoCategory(slug="smart-home", name="智能家居", name_en="Smart Home"),
    DemoCategory(slug="lifestyle", name="生活好物", name_en="Lifestyle"),
    DemoCategory(slug="wearables", name="智能穿戴", name_en="Wearables"),
    DemoCategory(slug="audio", name="耳机音频", name_en="Audio"),
    DemoCategory(slug="laptops", name="笔记本平板", name_en="Laptops & Tablets"),
    DemoCategory(slug="accessories", name="配件", name_en="Accessories"),
)

LOCATIONS: tuple[DemoLocation, ...] = (
    DemoLocation(
        code="main", name="北京主仓", name_en="Beijing Main Warehouse", kind="warehouse", priority=10
    ),
    DemoLocation(
        code="sh-store", name="上海旗舰店", name_en="Shanghai Flagship Store", kind="store", priority=20
    ),
    DemoLocation(
        code="sz-store", name="深圳旗舰店", name_en="Shenzhen Flagship Store", kind="store", priority=30
    ),
)


# ---------------------------------------------------------------------------
# Products
# ---------------------------------------------------------------------------

_PHONES: tuple[DemoProduct, ...] = (
    DemoProduct(
        slug="xiaomi-15-ultra",
        name="小米 15 Ultra",
        name_en="Xiaomi 15 Ultra",
        brand="xiaomi",
        category="phones",
        description="徕卡一英寸主摄与 2 亿像素潜望长焦，专业影像旗舰。搭载骁龙 8 至尊版，支持 90W 有线快充。",
        description_en=(
            "A pro photography flagship with a Leica 1-inch main camera and a 200MP periscope telephoto. "
            "Powered by Snapdragon 8 Elite with 90W wired fast charging."
        ),
        variants=(
            DemoVariant(
                sku="XM15U-16-512-BLK",
                name="16GB+512GB 黑色",
                name_en="16GB+512GB Black",
                price_fen=649900,
                cost_fen=519900,
                stock={"main": 320, "sh-store": 12, "sz-store": 8},
            ),
            DemoVariant(
                sku="XM15U-16-512-WHT",
                name="16GB+512GB 白色",
                name_en="16GB+512GB White",
                price_fen=649900,
                cost_fen=519900,
                stock={"main": 180, "sh-store": 6},
            ),
            DemoVariant(
                sku="XM15U-16-1T-SLV",
                name="16GB+1TB 银色经典款",
                name_en="16GB+1TB Silver Classic",
                price_fen=729900,
                cost_fen=589900,
                stock={"main": 3},
            ),
        ),
    ),
    DemoProduct(
        slug="xiaomi-15-pro",
        name="小米 15 Pro",
        name_en="Xiaomi 15 Pro",
        brand="xiaomi",
        category="phones",
        description=(
            "2K 超视感屏与徕卡光学 Summilux 镜头，续航更持久。6100mAh 小米金沙江电池，支持 50W 无线充电。"
        ),
        description_en=(
            "A 2K display and Leica Summilux optics with longer battery life. "
            "6100mAh battery with 50W wireless charging."
        ),
        variants=(
            DemoVariant(
                sku="XM15P-12-256-BLK",
                name="12GB+256GB 黑色",
                name_en="12GB+256GB Black",
                price_fen=499900,
                cost_fen=399900,
                stock={"main": 800, "sh-store": 30, "sz-store": 25},
            ),
            DemoVariant(
                sku="XM15P-16-512-WHT",
                name="16GB+512GB 白色",
                name_en="16GB+512GB White",
                price_fen=579900,
                cost_fen=459900,
                stock={"main": 450, "sh-store": 15, "sz-store": 10},
            ),
            DemoVariant(
                sku="XM15P-16-1T-GRN",
                name="16GB+1TB 云杉绿",
                name_en="16GB+1TB Spruce Green",
                price_fen=629900,
                cost_fen=499900,
                stock={"main": 120, "sz-store": 4},
            ),
        ),
    ),
    DemoProduct(
        slug="xiaomi-15",
        name="小米 15",
        name_en="Xiaomi 15",
        brand="xiaomi",
        category="phones",
        description="6.36 英寸小屏旗舰，单手握持更舒适。骁龙 8 至尊版加徕卡三摄，小身材大能量。",
        description_en=(
            "A compact 6.36-inch flagship that is comfortable in one hand. "
            "Snapdragon 8 Elite and a Leica triple camera in a small body."
        ),
        variants=(
            DemoVariant(
                sku="XM15-12-256-BLK",
                name="12GB+256GB 黑色",
                name_en="12GB+256GB Black",
                price_fen=399900,
                cost_fen=319900,
                stock={"main": 1200, "sh-store": 40, "sz-store": 35},
            ),
            DemoVariant(
                sku="XM15-16-512-WHT",
                name="16GB+512GB 白色",
                name_en="16GB+512GB White",
                price_fen=449900,
                cost_fen=359900,
                stock={"main": 700, "sh-store": 20, "sz-store": 18},
            ),
            DemoVariant(
                sku="XM15-16-512-PUR",
                name="16GB+512GB 丁香紫",
                name_en="16GB+512GB Lilac",
                price_fen=449900,
                cost_fen=359900,
                stock={"main": 400, "sh-store": 10},
            ),
            DemoVariant(
                sku="XM15-16-1T-SLV",
                name="16GB+1TB 亮银版",
                name_en="16GB+1TB Bright Silver Edition",
                price_fen=499900,
                cost_fen=399900,
                stock={"main": 90, "sz-store": 2},
            ),
        ),
    ),
    DemoProduct(
        slug="xiaomi-mix-flip-2",
        name="小米 MIX Flip 2",
        name_en="Xiaomi MIX Flip 2",
        brand="xiaomi",
        category="phones",
        description="小折叠旗舰，4 英寸大外屏无需展开即可回复消息。龙骨转轴更轻更稳。",
        description_en=(
            "A compact foldable flagship with a 4-inch cover screen for replying without unfolding. "
            "The keel hinge is lighter and steadier."
        ),
        variants=(
            DemoVariant(
                sku="XMMF2-12-256-BLK",
                name="12GB+256GB 黑色",
                name_en="12GB+256GB Black",
                price_fen=599900,
                cost_fen=479900,
                stock={"main": 150, "sh-store": 5, "sz-store": 3},
            ),
            DemoVariant(
                sku="XMMF2-16-512-PUR",
                name="16GB+512GB 浅紫色",
                name_en="16GB+512GB Light Purple",
                price_fen=679900,
                cost_fen=539900,
                stock={"main": 4, "sh-store": 1},
            ),
        ),
    ),
    DemoProduct(
        slug="xiaomi-civi-5-pro",
        name="小米 Civi 5 Pro",
        name_en="Xiaomi Civi 5 Pro",
        brand="xiaomi",
        category="phones",
        description="徕卡人像双前摄，自拍更自然。轻薄机身，多彩配色。",
        description_en=(
            "Leica portrait dual front cameras for natural selfies. A slim body in several colours."
        ),
        variants=(
            DemoVariant(
                sku="XMCV5P-12-256-PNK",
                name="12GB+256GB 樱花粉",
                name_en="12GB+256GB Sakura Pink",
                price_fen=299900,
                cost_fen=229900,
                stock={"main": 600, "sh-store": 25, "sz-store": 20},
            ),
            DemoVariant(
                sku="XMCV5P-16-512-WHT",
                name="16GB+512GB 珍珠白",
                name_en="16GB+512GB Pearl White",
                price_fen=349900,
                cost_fen=269900,
                stock={"main": 300, "sh-store": 10, "sz-store": 0},
            ),
        ),
    ),
    DemoProduct(
        slug="redmi-k80-pro",
        name="Redmi K80 Pro",
        name_en="Redmi K80 Pro",
        brand="redmi",
        category="phones",
        description="骁龙 8 至尊版性能旗舰，2K 新国货屏。6000mAh 大电池，120W 秒充。",
        description_en=(
            "A Snapdragon 8 Elite performance flagship with a 2K display. "
            "6000mAh battery with 120W HyperCharge."
        ),
        variants=(
            DemoVariant(
                sku="RMK80P-12-256-BLK",
                name="12GB+256GB 玄夜黑",
                name_en="12GB+256GB Midnight Black",
                price_fen=369900,
                cost_fen=299900,
                stock={"main": 900, "sh-store": 30, "sz-store": 30},
            ),
            DemoVariant(
                sku="RMK80P-16-512-WHT",
                name="16GB+512GB 雪岩白",
                name_en="16GB+512GB Snow Rock White",
                price_fen=419900,
                cost_fen=339900,
                stock={"main": 500, "sh-store": 12, "sz-store": 15},
            ),
            DemoVariant(
                sku="RMK80P-16-1T-CF",
                name="16GB+1TB 冠军版",
                name_en="16GB+1TB Champion Edition",
                price_fen=499900,
                cost_fen=409900,
                stock={"main": 5},
            ),
        ),
    ),
    DemoProduct(
        slug="redmi-k80",
        name="Redmi K80",
        name_en="Redmi K80",
        brand="redmi",
        category="phones",
        description="第三代骁龙 8 加 2K 直屏，性价比旗舰。6550mAh 超大电池，畅玩一整天。",
        description_en=(
            "Snapdragon 8 Gen 3 and a flat 2K display: the value flagship. "
            "A huge 6550mAh battery lasts all day."
        ),
        variants=(
            DemoVariant(
                sku="RMK80-12-256-BLK",
                name="12GB+256GB 玄夜黑",
                name_en="12GB+256GB Midnight Black",
                price_fen=249900,
                cost_fen=199900,
                stock={"main": 1500, "sh-store": 45, "sz-store": 50},
            ),
            DemoVariant(
                sku="RMK80-12-512-BLU",
                name="12GB+512GB 山峦青",
                name_en="12GB+512GB Mountain Teal",
                price_fen=279900,
                cost_fen=224900,
                stock={"main": 800, "sh-store": 20, "sz-store": 22},
            ),
            DemoVariant(
                sku="RMK80-16-1T-WHT",
                name="16GB+1TB 雪岩白",
                name_en="16GB+1TB Snow Rock White",
                price_fen=329900,
                cost_fen=264900,
                stock={"main": 260, "sz-store": 6},
            ),
        ),
    ),
    DemoProduct(
        slug="redmi-turbo-4",
        name="Redmi Turbo 4",
        name_en="Redmi Turbo 4",
        brand="redmi",
        category="phones",
        description="天玑 8400-Ultra 性能小钢炮，游戏帧率稳定。6550mAh 电池搭配 90W 快充。",
        description_en=(
            "A Dimensity 8400-Ultra performance pocket rocket with stable gaming frame rates. "
            "6550mAh battery with 90W fast charging."
        ),
        variants=(
            DemoVariant(
                sku="RMT4-12-256-BLK",
                name="12GB+256GB 暗影黑",
                name_en="12GB+256GB Shadow Black",
                price_fen=179900,
                cost_fen=144900,
                stock={"main": 2000, "sh-store": 50, "sz-store": 40},
            ),
            DemoVariant(
                sku="RMT4-16-512-BLU",
                name="16GB+512GB 浅海青",
                name_en="16GB+512GB Shallow Sea Blue",
                price_fen=219900,
                cost_fen=174900,
                stock={"main": 900, "sh-store": 18, "sz-store": 20},
            ),
        ),
    ),
    DemoProduct(
        slug="redmi-note-14-pro-plus",
        name="Redmi Note 14 Pro+",
        name_en="Redmi Note 14 Pro+",
        brand="redmi",
        category="phones",
        description="2 亿像素 OIS 主摄与 IP68 防尘防水，耐用好拍。康宁大猩猩 Victus 2 玻璃，更抗摔。",
        description_en=(
            "A 200MP OIS main camera and IP68 dust and water resistance. "
            "Corning Gorilla Glass Victus 2 for better drop protection."
        ),
        variants=(
            DemoVariant(
                sku="RMN14PP-12-256-BLK",
                name="12GB+256GB 子夜黑",
                name_en="12GB+256GB Midnight Black",
                price_fen=189900,
                cost_fen=149900,
                stock={"main": 1100, "sh-store": 35, "sz-store": 30},
            ),
            DemoVariant(
                sku="RMN14PP-16-512-PUR",
                name="16GB+512GB 幻影紫",
                name_en="16GB+512GB Phantom Purple",
                price_fen=229900,
                cost_fen=179900,
                stock={"main": 500, "sh-store": 10},
            ),
        ),
    ),
    DemoProduct(
        slug="redmi-note-14",
        name="Redmi Note 14",
        name_en="Redmi Note 14",
        brand="redmi",
        category="phones",
        description="5110mAh 大电池与 1 亿像素主摄，千元实力派。护眼 OLED 屏，日常使用更舒适。",
        description_en=(
            "A 5110mAh battery and 100MP main camera: solid value for around 1,000 yuan. "
            "An eye-care OLED display for comfortable everyday use."
        ),
        variants=(
            DemoVariant(
                sku="RMN14-8-128-BLU",
                name="8GB+128GB 星辰蓝",
                name_en="8GB+128GB Starry Blue",
                price_fen=109900,
                cost_fen=84900,
                stock={"main": 1800, "sh-store": 50, "sz-store": 45},
            ),
            DemoVariant(
                sku="RMN14-8-256-BLK",
                name="8GB+256GB 子夜黑",
                name_en="8GB+256GB Midnight Black",
                price_fen=129900,
                cost_fen=99900,
                stock={"main": 1600, "sh-store": 40, "sz-store": 40},
            ),
            DemoVariant(
                sku="RMN14-12-256-GRN",
                name="12GB+256GB 薄荷绿",
                name_en="12GB+256GB Mint Green",
                price_fen=149900,
                cost_fen=114900,
                stock={"main": 700, "sz-store": 15},
            ),
        ),
    ),
    DemoProduct(
        slug="redmi-14c",
        name="Redmi 14C",
        name_en="Redmi 14C",
        brand="redmi",
        category="phones",
        description="6.88 英寸大屏与 5160mAh 电池，入门首选。5000 万像素 AI 双摄，轻松记录生活。",
        description_en=(
            "A 6.88-inch screen and 5160mAh battery: the entry-level pick. "
            "A 50MP AI dual camera makes capturing everyday life easy."
        ),
        variants=(
            DemoVariant(
                sku="RM14C-4-128-BLK",
                name="4GB+128GB 午夜黑",
                name_en="4GB+128GB Midnight Black",
                price_fen=59900,
                cost_fen=46900,
                stock={"main": 2000, "sh-store": 30, "sz-store": 30},
            ),
            DemoVariant(
                sku="RM14C-6-128-GRN",
                name="6GB+128GB 鼠尾草绿",
                name_en="6GB+128GB Sage Green",
                price_fen=69900,
                cost_fen=54900,
                stock={"main": 1200, "sh-store": 20},
            ),
        ),
    ),
)


_SMART_HOME: tuple[DemoProduct, ...] = (
    DemoProduct(
        slug="mijia-robot-vacuum-x20",
        name="米家扫拖机器人 X20",
        name_en="Mijia Robot Vacuum-Mop X20",
        brand="xiaomi",
        category="smart-home",
        description="全能基站自动集尘、洗拖布、烘干，解放双手。7000Pa 大吸力，LDS 激光导航精准避障。",
        description_en=(
            "An all-in-one dock that empties dust, washes and dries the mop for you. "
            "7000Pa suction and LDS laser navigation with precise obstacle avoidance."
        ),
        variants=(
            DemoVariant(
                sku="MJX20-WHT",
                name="白色",
                name_en="White",
                price_fen=299900,
                cost_fen=234900,
                stock={"main": 400, "sh-store": 8, "sz-store": 6},
            ),
        ),
    ),
    DemoProduct(
        slug="mijia-robot-vacuum-s12",
        name="米家扫拖机器人 S12",
        name_en="Mijia Robot Vacuum-Mop S12",
        brand="xiaomi",
        category="smart-home",
        description="扫拖一体入门款，4000Pa 吸力。支持米家 App 分区清扫。",
        description_en=(
            "An entry-level sweep-and-mop robot with 4000Pa suction. Room-by-room cleaning in the Mijia app."
        ),
        variants=(
            DemoVariant(
                sku="MJS12-WHT",
                name="白色",
                name_en="White",
                price_fen=129900,
                cost_fen=99900,
                stock={"main": 650, "sh-store": 10, "sz-store": 12},
            ),
        ),
    ),
    DemoProduct(
        slug="mijia-air-purifier-5-pro",
        name="米家空气净化器 5 Pro",
        name_en="Mijia Air Purifier 5 Pro",
        brand="xiaomi",
        category="smart-home",
        description="CADR 颗粒物 600m³/h，60 平米大空间快速净化。OLED 触控屏实时显示 PM2.5 与甲醛数值。",
        description_en=(
            "Particulate CADR of 600m³/h purifies rooms up to 60m² quickly. "
            "An OLED touch screen shows PM2.5 and formaldehyde readings in real time."
        ),
        variants=(
            DemoVariant(
                sku="MJAP5P-WHT",
                name="白色",
                name_en="White",
                price_fen=149900,
                cost_fen=114900,
                stock={"main": 380, "sh-store": 6, "sz-store": 5},
            ),
            DemoVariant(
                sku="MJAP5P-FLT",
                name="替换滤芯",
                name_en="Replacement Filter",
                price_fen=19900,
                cost_fen=12900,
                stock={"main": 1500, "sh-store": 30, "sz-store": 30},
            ),
        ),
    ),
    DemoProduct(
        slug="xiaomi-smart-speaker-pro",
        name="小米智能音箱 Pro",
        name_en="Xiaomi Smart Speaker Pro",
        brand="xiaomi",
        category="smart-home",
        description="小爱同学语音控制全屋米家设备。360° 环绕立体声，内置 Zigbee 与蓝牙 Mesh 网关。",
        description_en=(
            "Control every Mijia device at home by voice with the XiaoAi assistant. "
            "360° surround sound with a built-in Zigbee and Bluetooth Mesh gateway."
        ),
        variants=(
            DemoVariant(
                sku="XMSSP-BLK",
                name="深空灰",
                name_en="Space Grey",
                price_fen=49900,
                cost_fen=37900,
                stock={"main": 900, "sh-store": 20, "sz-store": 20},
            ),
            DemoVariant(
                sku="XMSSP-WHT",
                name="云雾白",
                name_en="Cloud White",
                price_fen=49900,
                cost_fen=37900,
                stock={"main": 600, "sh-store": 15},
            ),
        ),
    ),
    DemoProduct(
        slug="xiaomi-smart-camera-c500",
        name="小米智能摄像机 C500",
        name_en="Xiaomi Smart Camera C500",
        brand="xiaomi",
        category="smart-home",
        description="3K 超清画质，360° 云台全景守护。AI 人形侦测，异常画面即时推送。",
        description_en=(
            "3K ultra-clear video with 360° pan-and-tilt coverage. "
            "AI human detection pushes alerts instantly."
        ),
        variants=(
            DemoVariant(
                sku="XMC500-STD",
                name="标准版",
                name_en="Standard",
                price_fen=24900,
                cost_fen=18900,
                stock={"main": 1200, "sh-store": 25, "sz-store": 25},
            ),
            DemoVariant(
                sku="XMC500-DUAL",
                name="双摄版",
                name_en="Dual-Lens Edition",
                price_fen=34900,
                cost_fen=26900,
                stock={"main": 500, "sh-store": 10, "sz-store": 8},
            ),
        ),
    ),
    DemoProduct(
        slug="mijia-smart-led-bulb",
        name="米家智能 LED 灯泡",
        name_en="Mijia Smart LED Bulb",
        brand="xiaomi",
        category="smart-home",
        description="1600 万色与 1700K–6500K 色温随心调节。支持小爱语音控制与定时开关。",
        description_en=(
            "16 million colours and 1700K–6500K colour temperature, adjustable at will. "
            "Works with XiaoAi voice control and schedules."
        ),
        variants=(
            DemoVariant(
                sku="MJBULB-E27-1",
                name="E27 单只装",
                name_en="E27 Single",
                price_fen=4900,
                cost_fen=3400,
                stock={"main": 2000, "sh-store": 50, "sz-store": 50},
            ),
            DemoVariant(
                sku="MJBULB-E27-3",
                name="E27 三只装",
                name_en="E27 3-Pack",
                price_fen=12900,
                cost_fen=8900,
                stock={"main": 800, "sh-store": 20, "sz-store": 15},
            ),
        ),
    ),
    DemoProduct(
        slug="mijia-door-window-sensor-2",
        name="米家门窗传感器 2",
        name_en="Mijia Door and Window Sensor 2",
        brand="xiaomi",
        category="smart-home",
        description="开门自动亮灯，离家忘关窗及时提醒。内置光照传感器，可联动更多场景。",
        description_en=(
            "Turn lights on when the door opens and get reminded if a window is left open. "
            "A built-in light sensor enables more automations."
        ),
        variants=(
            DemoVariant(
                sku="MJDWS2-WHT",
                name="白色",
                name_en="White",
                price_fen=5900,
                cost_fen=3900,
                stock={"main": 1800, "sh-store": 40, "sz-store": 35},
            ),
        ),
    ),
    DemoProduct(
        slug="mijia-thermo-hygrometer-3",
        name="米家温湿度计 3",
        name_en="Mijia Thermo-Hygrometer 3",
        brand="xiaomi",
        category="smart-home",
        description="瑞士高精度传感器，温湿度一目了然。可作为米家自动化的触发条件。",
        description_en=(
            "A high-precision Swiss sensor shows temperature and humidity at a glance. "
            "Use it as a trigger for Mijia automations."
        ),
        variants=(
            DemoVariant(
                sku="MJTH3-WHT",
                name="白色",
                name_en="White",
                price_fen=3900,
                cost_fen=2600,
                stock={"main": 2000, "sh-store": 50, "sz-store": 50},
            ),
        ),
    ),
    DemoProduct(
        slug="mijia-presence-sensor",
        name="米家人在传感器",
        name_en="Mijia Human Presence Sensor",
        brand="xiaomi",
        category="smart-home",
        description="毫米波雷达感知静坐、睡眠等微小动作，人在灯就不灭。",
        description_en=(
            "Millimetre-wave radar detects subtle movement such as sitting still or sleeping, "
            "so lights stay on while you are there."
        ),
        variants=(
            DemoVariant(
                sku="MJHPS-WHT",
                name="白色",
                name_en="White",
                price_fen=19900,
                cost_fen=14900,
                stock={"main": 700, "sh-store": 12, "sz-store": 10},
            ),
        ),
    ),
    DemoProduct(
        slug="mijia-smart-door-lock-m30",
        name="米家智能门锁 M30",
        name_en="Mijia Smart Door Lock M30",
        brand="xiaomi",
        category="smart-home",
        description="3D 结构光人脸识别，靠近即开。C 级锁芯，支持指纹、密码、NFC 多种开锁方式。",
        description_en=(
            "3D structured-light face recognition unlocks as you approach. "
            "Grade-C cylinder with fingerprint, passcode and NFC unlocking."
        ),
        variants=(
            DemoVariant(
                sku="MJLOCKM30-BLK",
                name="星空黑",
                name_en="Starry Black",
                price_fen=169900,
                cost_fen=129900,
                stock={"main": 220, "sh-store": 4, "sz-store": 3},
            ),
        ),
    ),
    DemoProduct(
        slug="xiaomi-router-be7000",
        name="小米路由器 BE7000",
        name_en="Xiaomi Router BE7000",
        brand="xiaomi",
        category="smart-home",
        description="Wi-Fi 7 三频并发，速率高达 7000Mbps。四个 2.5G 网口，全屋智能设备稳定连接。",
        description_en=(
            "Tri-band Wi-Fi 7 with speeds up to 7000Mbps. "
            "Four 2.5G ports keep every smart device at home reliably connected."
        ),
        variants=(
            DemoVariant(
                sku="XMRBE7000-BLK",
                name="黑色",
                name_en="Black",
                price_fen=99900,
                cost_fen=76900,
                stock={"main": 450, "sh-store": 8, "sz-store": 10},
            ),
        ),
    ),
    DemoProduct(
        slug="redmi-router-ax3000t",
        name="Redmi 路由器 AX3000T",
        name_en="Redmi Router AX3000T",
        brand="redmi",
        category="smart-home",
        description="Wi-Fi 6 双频 3000M，穿墙更稳。支持米家设备一键配网。",
        description_en=(
            "Dual-band Wi-Fi 6 at 3000Mbps with better wall penetration. "
            "One-tap network setup for Mijia devices."
        ),
        variants=(
            DemoVariant(
                sku="RMRAX3000T-WHT",
                name="白色",
                name_en="White",
                price_fen=23900,
                cost_fen=17900,
                stock={"main": 1400, "sh-store": 25, "sz-store": 30},
            ),
        ),
    ),
)


_LIFESTYLE: tuple[DemoProduct, ...] = (
    DemoProduct(
        slug="xiaomi-suitcase",
        name="小米旅行箱",
        name_en="Xiaomi Travel Suitcase",
        brand="xiaomi",
        category="lifestyle",
        description="PC 材质箱体轻巧耐磨，TSA 海关锁出国无忧。静音万向轮，推行顺滑。",
        description_en=(
            "A light, scuff-resistant polycarbonate shell with a TSA customs lock for international travel. "
            "Quiet spinner wheels roll smoothly."
        ),
        variants=(
            DemoVariant(
                sku="XMSC-20-GRY",
                name="20 英寸 星空灰",
                name_en="20-inch Starry Grey",
                price_fen=39900,
                cost_fen=29900,
                stock={"main": 600, "sh-store": 10, "sz-store": 8},
            ),
            DemoVariant(
                sku="XMSC-24-GRY",
                name="24 英寸 星空灰",
                name_en="24-inch Starry Grey",
                price_fen=49900,
                cost_fen=37900,
                stock={"main": 400, "sh-store": 6},
            ),
            DemoVariant(
                sku="XMSC-28-BLU",
                name="28 英寸 雾蓝",
                name_en="28-inch Mist Blue",
                price_fen=59900,
                cost_fen=45900,
                stock={"main": 2},
            ),
        ),
    ),
    DemoProduct(
        slug="xiaomi-commuter-backpack",
        name="小米通勤双肩包",
        name_en="Xiaomi Commuter Backpack",
        brand="xiaomi",
        category="lifestyle",
        description="可容纳 15.6 英寸笔记本，多隔层收纳井井有条。防泼水面料，雨天通勤更安心。",
        description_en=(
            "Fits a 15.6-inch laptop with multiple compartments to stay organised. "
            "Water-repellent fabric for rainy commutes."
        ),
        variants=(
            DemoVariant(
                sku="XMBP-BLK",
                name="黑色",
                name_en="Black",
                price_fen=14900,
                cost_fen=10900,
                stock={"main": 1000, "sh-store": 20, "sz-store": 20},
            ),
            DemoVariant(
                sku="XMBP-GRY",
                name="深灰色",
                name_en="Dark Grey",
                price_fen=14900,
                cost_fen=10900,
                stock={"main": 700, "sh-store": 15, "sz-store": 0},
            ),
        ),
    ),
    DemoProduct(
        slug="mijia-vacuum-thermos",
        name="米家保温杯 480ml",
        name_en="Mijia Vacuum Thermos 480ml",
        brand="xiaomi",
        category="lifestyle",
        description="316 不锈钢内胆，12 小时长效保温。一键弹盖，单手即可饮用。",
        description_en=(
            "A 316 stainless steel inner wall keeps drinks hot for 12 hours. "
            "A one-touch flip lid lets you drink with one hand."
        ),
        variants=(
            DemoVariant(
                sku="MJTH480-BLK",
                name="曜石黑",
                name_en="Obsidian Black",
                price_fen=6900,
                cost_fen=4900,
                stock={"main": 1500, "sh-store": 30, "sz-store": 30},
            ),
            DemoVariant(
                sku="MJTH480-WHT",
                name="月光白",
                name_en="Moonlight White",
                price_fen=6900,
                cost_fen=4900,
                stock={"main": 1200, "sh-store": 25, "sz-store": 20},
            ),
        ),
    ),
    DemoProduct(
        slug="xiaomi-auto-umbrella",
        name="小米全自动折叠伞",
        name_en="Xiaomi Automatic Folding Umbrella",
        brand="xiaomi",
        category="lifestyle",
        description="一键自动开合，单手轻松操作。黑胶涂层防晒，晴雨两用。",
        description_en=(
            "Opens and closes automatically with one button for one-handed use. "
            "A UV-blocking coating makes it good for sun and rain."
        ),
        variants=(
            DemoVariant(
                sku="XMUMB-BLK",
                name="黑色",
                name_en="Black",
                price_fen=7900,
                cost_fen=5500,
                stock={"main": 1300, "sh-store": 35, "sz-store": 40},
            ),
            DemoVariant(
                sku="XMUMB-BLU",
                name="藏青色",
                name_en="Navy Blue",
                price_fen=7900,
                cost_fen=5500,
                stock={"main": 900, "sh-store": 20, "sz-store": 25},
            ),
        ),
    ),
    DemoProduct(
        slug="mijia-sonic-toothbrush-t501",
        name="米家声波电动牙刷 T501",
        name_en="Mijia Sonic Electric Toothbrush T501",
        brand="xiaomi",
        category="lifestyle",
        description="高频声波震动，深入清洁牙缝。一次充电续航 60 天，App 记录刷牙习惯。",
        description_en=(
            "High-frequency sonic vibration cleans deep between teeth. "
            "60 days of battery life per charge, with brushing habits tracked in the app."
        ),
        variants=(
            DemoVariant(
                sku="MJT501-WHT",
                name="白色",
                name_en="White",
                price_fen=19900,
                cost_fen=14900,
                stock={"main": 800, "sh-store": 20, "sz-store": 18},
            ),
            DemoVariant(
                sku="MJT501-BLU",
                name="深海蓝",
                name_en="Deep Sea Blue",
                price_fen=19900,
                cost_fen=14900,
                stock={"main": 500, "sh-store": 10},
            ),
            DemoVariant(
                sku="MJT501-HEAD3",
                name="替换刷头 3 支装",
                name_en="Replacement Heads 3-Pack",
                price_fen=3900,
                cost_fen=2500,
                stock={"main": 2000, "sh-store": 50, "sz-store": 50},
            ),
        ),
    ),
    DemoProduct(
        slug="xiaomi-electric-scooter-5",
        name="小米电动滑板车 5",
        name_en="Xiaomi Electric Scooter 5",
        brand="xiaomi",
        category="lifestyle",
        description="一秒折叠，轻松带上地铁。前后双减震与 10 英寸真空胎，城市通勤更舒适。",
        description_en=(
            "Folds in one second to take on the metro. "
            "Front and rear suspension with 10-inch tubeless tyres for comfortable city commutes."
        ),
        variants=(
            DemoVariant(
                sku="XMES5-STD-BLK",
                name="标准版 黑色",
                name_en="Standard Black",
                price_fen=279900,
                cost_fen=219900,
                stock={"main": 160, "sh-store": 3, "sz-store": 2},
            ),
            DemoVariant(
                sku="XMES5-PRO-BLK",
                name="Pro 版 黑色",
                name_en="Pro Black",
                price_fen=349900,
                cost_fen=279900,
                stock={"main": 1},
            ),
        ),
    ),
    DemoProduct(
        slug="mijia-electric-shaver-s301",
        name="米家电动剃须刀 S301",
        name_en="Mijia Electric Shaver S301",
        brand="xiaomi",
        category="lifestyle",
        description="三刀头浮动贴面，剃得干净不刮脸。IPX7 全身水洗，带弹出式鬓角刀。",
        description_en=(
            "Three floating heads follow your face for a close, gentle shave. "
            "IPX7 fully washable, with a pop-up sideburn trimmer."
        ),
        variants=(
            DemoVariant(
                sku="MJS301-BLK",
                name="黑色",
                name_en="Black",
                price_fen=14900,
                cost_fen=10900,
                stock={"main": 900, "sh-store": 15, "sz-store": 15},
            ),
        ),
    ),
    DemoProduct(
        slug="mijia-hair-dryer-h501",
        name="米家高速吹风机 H501",
        name_en="Mijia High-Speed Hair Dryer H501",
        brand="xiaomi",
        category="lifestyle",
        description="11 万转高速电机，3 分钟快速干发。负离子护发，减少毛躁。",
        description_en=(
            "A 110,000 rpm high-speed motor dries hair in 3 minutes. "
            "Negative ions care for hair and reduce frizz."
        ),
        variants=(
            DemoVariant(
                sku="MJH501-WHT",
                name="月光白",
                name_en="Moonlight White",
                price_fen=39900,
                cost_fen=29900,
                stock={"main": 550, "sh-store": 12, "sz-store": 10},
            ),
            DemoVariant(
                sku="MJH501-PNK",
                name="樱花粉",
                name_en="Sakura Pink",
                price_fen=39900,
                cost_fen=29900,
                stock={"main": 300, "sz-store": 5},
            ),
        ),
    ),
    DemoProduct(
        slug="mijia-smart-kettle-2",
        name="米家恒温电水壶 2",
        name_en="Mijia Smart Kettle 2",
        brand="xiaomi",
        category="lifestyle",
        description="40–90℃ 多档恒温，泡茶冲奶都合适。1.7L 大容量，304 不锈钢内胆。",
        description_en=(
            "Keeps water at 40–90°C, just right for tea or baby formula. "
            "1.7L capacity with a 304 stainless steel interior."
        ),
        variants=(
            DemoVariant(
                sku="MJKT2-WHT",
                name="白色",
                name_en="White",
                price_fen=14900,
                cost_fen=10900,
                stock={"main": 1000, "sh-store": 18, "sz-store": 20},
            ),
        ),
    ),
    DemoProduct(
        slug="mijia-body-fat-scale-s400",
        name="米家体脂秤 S400",
        name_en="Mijia Body Composition Scale S400",
        brand="xiaomi",
        category="lifestyle",
        description="双频体脂测量，25 项身体数据一目了然。支持全家多人自动识别。",
        description_en=(
            "Dual-frequency measurement shows 25 body metrics at a glance. "
            "Automatically recognises each family member."
        ),
        variants=(
            DemoVariant(
                sku="MJS400-WHT",
                name="白色",
                name_en="White",
                price_fen=14900,
                cost_fen=10900,
                stock={"main": 750, "sh-store": 14, "sz-store": 12},
            ),
        ),
    ),
    DemoProduct(
        slug="mijia-massage-gun-mini-2",
        name="米家筋膜枪 mini 2",
        name_en="Mijia Massage Gun Mini 2",
        brand="xiaomi",
        category="lifestyle",
        description="口袋大小，运动后随时放松肌肉。三档力度，配备两种按摩头。",
        description_en=(
            "Pocket-sized to relax muscles anywhere after a workout. "
            "Three intensity levels and two massage heads."
        ),
        variants=(
            DemoVariant(
                sku="MJMGM2-GRY",
                name="灰色",
                name_en="Grey",
                price_fen=29900,
                cost_fen=22900,
                stock={"main": 420, "sh-store": 8, "sz-store": 6},
            ),
        ),
    ),
)


_WEARABLES: tuple[DemoProduct, ...] = (
    DemoProduct(
        slug="xiaomi-watch-s4",
        name="小米 Watch S4",
        name_en="Xiaomi Watch S4",
        brand="xiaomi",
        category="wearables",
        description="可更换表圈，百变风格。支持 eSIM 独立通话与 150+ 运动模式。",
        description_en=(
            "Interchangeable bezels for a new look any day. eSIM for standalone calls and 150+ workout modes."
        ),
        variants=(
            DemoVariant(
                sku="XMWS4-BLK",
                name="47mm 黑色",
                name_en="47mm Black",
                price_fen=99900,
                cost_fen=76900,
                stock={"main": 500, "sh-store": 12, "sz-store": 10},
            ),
            DemoVariant(
                sku="XMWS4-SLV",
                name="47mm 银色",
                name_en="47mm Silver",
                price_fen=99900,
                cost_fen=76900,
                stock={"main": 350, "sh-store": 8},
            ),
        ),
    ),
    DemoProduct(
        slug="xiaomi-smart-band-9-pro",
        name="小米手环 9 Pro",
        name_en="Xiaomi Smart Band 9 Pro",
        brand="xiaomi",
        category="wearables",
        description="1.74 英寸 AMOLED 大屏，内置双频 GNSS 独立定位。21 天超长续航。",
        description_en=(
            "A 1.74-inch AMOLED display with built-in dual-band GNSS. Up to 21 days of battery life."
        ),
        variants=(
            DemoVariant(
                sku="XMB9P-BLK",
                name="曜石黑",
                name_en="Obsidian Black",
                price_fen=39900,
                cost_fen=29900,
                stock={"main": 1400, "sh-store": 30, "sz-store": 30},
            ),
            DemoVariant(
                sku="XMB9P-GLD",
                name="月影金",
                name_en="Moonlight Gold",
                price_fen=39900,
                cost_fen=29900,
                stock={"main": 800, "sh-store": 20, "sz-store": 15},
            ),
        ),
    ),
    DemoProduct(
        slug="redmi-watch-5",
        name="Redmi Watch 5",
        name_en="Redmi Watch 5",
        brand="redmi",
        category="wearables",
        description="2.07 英寸超大屏，24 天续航。支持蓝牙通话与血氧监测。",
        description_en="A large 2.07-inch display and 24-day battery. Bluetooth calls and SpO2 monitoring.",
        variants=(
            DemoVariant(
                sku="RMW5-BLK",
                name="曜石黑",
                name_en="Obsidian Black",
                price_fen=49900,
                cost_fen=37900,
                stock={"main": 900, "sh-store": 20, "sz-store": 20},
            ),
            DemoVariant(
                sku="RMW5-SLV",
                name="银雾白",
                name_en="Silver Mist",
                price_fen=49900,
                cost_fen=37900,
                stock={"main": 600, "sz-store": 10},
            ),
        ),
    ),
)


_AUDIO: tuple[DemoProduct, ...] = (
    DemoProduct(
        slug="xiaomi-buds-5-pro",
        name="小米 Buds 5 Pro",
        name_en="Xiaomi Buds 5 Pro",
        brand="xiaomi",
        category="audio",
        description="55dB 深度主动降噪，哈曼调音。支持 LHDC 5.0 高清音频与空间音频。",
        description_en=(
            "55dB deep active noise cancellation with Harman tuning. LHDC 5.0 hi-res audio and spatial audio."
        ),
        variants=(
            DemoVariant(
                sku="XMBUDS5P-BLK",
                name="曜石黑",
                name_en="Obsidian Black",
                price_fen=129900,
                cost_fen=99900,
                stock={"main": 600, "sh-store": 15, "sz-store": 12},
            ),
            DemoVariant(
                sku="XMBUDS5P-WHT",
                name="雪山白",
                name_en="Snow White",
                price_fen=129900,
                cost_fen=99900,
                stock={"main": 400, "sh-store": 10},
            ),
        ),
    ),
    DemoProduct(
        slug="redmi-buds-6",
        name="Redmi Buds 6",
        name_en="Redmi Buds 6",
        brand="redmi",
        category="audio",
        description="49dB 主动降噪，双单元动圈。单次 10 小时续航，配合充电盒可达 42 小时。",
        description_en=(
            "49dB active noise cancellation with dual dynamic drivers. "
            "10 hours per charge and up to 42 hours with the case."
        ),
        variants=(
            DemoVariant(
                sku="RMBUDS6-BLK",
                name="黑色",
                name_en="Black",
                price_fen=19900,
                cost_fen=14900,
                stock={"main": 1600, "sh-store": 40, "sz-store": 40},
            ),
            DemoVariant(
                sku="RMBUDS6-WHT",
                name="白色",
                name_en="White",
                price_fen=19900,
                cost_fen=14900,
                stock={"main": 1100, "sh-store": 30, "sz-store": 25},
            ),
        ),
    ),
)


_LAPTOPS: tuple[DemoProduct, ...] = (
    DemoProduct(
        slug="redmibook-pro-16-2025",
        name="RedmiBook Pro 16 2025",
        name_en="RedmiBook Pro 16 2025",
        brand="redmi",
        category="laptops",
        description="3.1K 165Hz 大屏，酷睿 Ultra 处理器。99Wh 大电池，支持小米妙享跨端互联。",
        description_en=(
            "A 3.1K 165Hz display with an Intel Core Ultra processor. "
            "A 99Wh battery and Xiaomi HyperConnect for cross-device workflows."
        ),
        variants=(
            DemoVariant(
                sku="RMBP16-U5-16-512",
                name="Ultra 5 16GB+512GB",
                name_en="Ultra 5 16GB+512GB",
                price_fen=599900,
                cost_fen=489900,
                stock={"main": 200, "sh-store": 4, "sz-store": 3},
            ),
            DemoVariant(
                sku="RMBP16-U7-32-1T",
                name="Ultra 7 32GB+1TB",
                name_en="Ultra 7 32GB+1TB",
                price_fen=699900,
                cost_fen=569900,
                stock={"main": 90, "sh-store": 2},
            ),
        ),
    ),
    DemoProduct(
        slug="xiaomi-pad-7",
        name="小米平板 7",
        name_en="Xiaomi Pad 7",
        brand="xiaomi",
        category="laptops",
        description="11.2 英寸 3.2K 超清屏，学习娱乐两相宜。支持焦点触控笔与键盘式双面保护壳。",
        description_en=(
            "An 11.2-inch 3.2K display for study and entertainment. "
            "Works with the Focus Pen and keyboard cover."
        ),
        variants=(
            DemoVariant(
                sku="XMPAD7-8-128-GRY",
                name="8GB+128GB 深灰色",
                name_en="8GB+128GB Dark Grey",
                price_fen=199900,
                cost_fen=159900,
                stock={"main": 700, "sh-store": 15, "sz-store": 15},
            ),
            DemoVariant(
                sku="XMPAD7-12-256-BLU",
                name="12GB+256GB 浅蓝色",
                name_en="12GB+256GB Light Blue",
                price_fen=249900,
                cost_fen=199900,
                stock={"main": 350, "sh-store": 8, "sz-store": 6},
            ),
        ),
    ),
)


_ACCESSORIES: tuple[DemoProduct, ...] = (
    DemoProduct(
        slug="xiaomi-usb-c-cable",
        name="小米 USB-C 数据线",
        name_en="Xiaomi USB-C Cable",
        brand="xiaomi",
        category="accessories",
        description="支持 6A 大电流，兼容 120W 快充。编织线身，耐弯折。",
        description_en="Supports 6A current for 120W fast charging. A braided jacket resists bending wear.",
        variants=(
            DemoVariant(
                sku="XMCBL-C-1M",
                name="1 米",
                name_en="1 m",
                price_fen=2900,
                cost_fen=1900,
                stock={"main": 2000, "sh-store": 50, "sz-store": 50},
            ),
            DemoVariant(
                sku="XMCBL-C-2M",
                name="2 米",
                name_en="2 m",
                price_fen=3900,
                cost_fen=2600,
                stock={"main": 1500, "sh-store": 40, "sz-store": 40},
            ),
        ),
    ),
    DemoProduct(
        slug="xiaomi-120w-charger",
        name="小米 120W 氮化镓充电器",
        name_en="Xiaomi 120W GaN Charger",
        brand="xiaomi",
        category="accessories",
        description="氮化镓小体积，120W 满血快充。兼容 PD 协议，笔记本也能充。",
        description_en=(
            "Compact GaN design with full 120W fast charging. PD-compatible, so it charges laptops too."
        ),
        variants=(
            DemoVariant(
                sku="XMCHG120-WHT",
                name="白色（含线）",
                name_en="White (cable included)",
                price_fen=19900,
                cost_fen=14900,
                stock={"main": 1200, "sh-store": 30, "sz-store": 30},
            ),
        ),
    ),
    DemoProduct(
        slug="redmi-power-bank-20000",
        name="Redmi 充电宝 20000mAh",
        name_en="Redmi Power Bank 20000mAh",
        brand="redmi",
        category="accessories",
        description="20000mAh 大容量，22.5W 快充。双口同时输出，出差旅行必备。",
        description_en=(
            "20000mAh capacity with 22.5W fast charging. Two ports charge at once — a travel essential."
        ),
        variants=(
            DemoVariant(
                sku="RMPB20K-BLK",
                name="黑色",
                name_en="Black",
                price_fen=9900,
                cost_fen=7200,
                stock={"main": 1800, "sh-store": 40, "sz-store": 45},
            ),
        ),
    ),
)


PRODUCTS: tuple[DemoProduct, ...] = (
    _PHONES + _SMART_HOME + _LIFESTYLE + _WEARABLES + _AUDIO + _LAPTOPS + _ACCESSORIES
)
