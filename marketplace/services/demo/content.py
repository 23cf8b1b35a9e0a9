"""The fictional organisations and project archetypes the demo data is drawn from.

Every institution here is invented; none is, or is named after, a real bank or fund.
"""

from decimal import Decimal

DEMO_PASSWORD = "demo-password-1"

DEMO_ACCOUNTS = (
    # email, role, display name, organisation key
    ("owner@demo.test", "owner", "Amina Rahman", "sponsor-0"),
    ("investor@demo.test", "investor", "Chen Wei", "investor-0"),
    ("broker@demo.test", "broker", "Grace Lau", "broker-0"),
    ("admin@demo.test", "admin", "Platform Admin", "broker-0"),
)

BROKER_FIRMS = (("broker-0", "Silk Road Green Arrangers", "hong_kong", "HK"),)

# key, name, hub, country
INVESTORS = (
    ("investor-0", "Harbourline Green Capital", "hong_kong", "HK"),
    ("investor-1", "Victoria Peak Sustainable Infrastructure Fund", "hong_kong", "HK"),
    ("investor-2", "Kowloon Bay Transition Partners", "hong_kong", "HK"),
    ("investor-3", "Lantau Climate Credit", "hong_kong", "HK"),
    ("investor-4", "Jinrong Street Transition Fund", "beijing", "CN"),
    ("investor-5", "Xishan Climate Investment Co.", "beijing", "CN"),
    ("investor-6", "Yongding River Infrastructure Partners", "beijing", "CN"),
    ("investor-7", "Zhongguancun Green Guarantee Co.", "beijing", "CN"),
    ("investor-8", "北方绿色租赁有限公司 Northern Green Leasing", "beijing", "CN"),
    ("investor-9", "Pearl Delta Carbon Offtake Ltd", "hong_kong", "HK"),
)

# key, name, country
SPONSORS = (
    ("sponsor-0", "Indus Clean Power Developers", "PK"),
    ("sponsor-1", "Nile Delta Renewables", "EG"),
    ("sponsor-2", "Steppe Wind Energy", "KZ"),
    ("sponsor-3", "Mekong Green Infrastructure", "VN"),
    ("sponsor-4", "Rift Valley Power Partners", "KE"),
    ("sponsor-5", "Atlas Solar Holdings", "MA"),
    ("sponsor-6", "Andes Transition Energy", "CL"),
    ("sponsor-7", "Bosphorus Mobility Group", "TR"),
    ("sponsor-8", "Java Sea Hydrogen", "ID"),
    ("sponsor-9", "Caucasus Hydro Company", "GE"),
    ("sponsor-10", "Gulf Carbon Solutions", "AE"),
    ("sponsor-11", "Danube Urban Developments", "RS"),
)

COUNTRIES = (
    "PK",
    "BD",
    "LK",
    "NP",
    "KZ",
    "UZ",
    "KG",
    "MN",
    "ID",
    "VN",
    "TH",
    "KH",
    "LA",
    "MY",
    "PH",
    "EG",
    "MA",
    "SA",
    "AE",
    "OM",
    "KE",
    "ET",
    "NG",
    "ZA",
    "TZ",
    "ZM",
    "GH",
    "SN",
    "RS",
    "HU",
    "GE",
    "AZ",
    "TR",
    "CL",
    "AR",
)

# technology: (title EN, title ZH, summary EN, summary ZH, capacity range, unit,
#              USD amount range in millions, instruments, tenor range)
ARCHETYPES = {
    "solar_pv": (
        "{mw} MW solar PV park in {place}",
        "{place}{mw}兆瓦光伏电站",
        "Utility-scale photovoltaic plant with a 20-year power purchase agreement.",
        "配套20年购电协议的大型地面光伏电站。",
        (20, 400),
        "MW",
        (15, 320),
        ("green_loan", "green_bond", "project_equity"),
        (8, 18),
    ),
    "csp": (
        "{mw} MW concentrated solar plant with storage, {place}",
        "{place}{mw}兆瓦光热电站（含储热）",
        "Parabolic-trough CSP with molten-salt storage for evening peak supply.",
        "槽式光热发电，配熔盐储热，满足晚高峰供电。",
        (50, 200),
        "MW",
        (180, 700),
        ("green_loan", "blended_facility"),
        (15, 22),
    ),
    "onshore_wind": (
        "{mw} MW onshore wind farm, {place}",
        "{place}{mw}兆瓦陆上风电场",
        "Wind farm on a high-resource site with grid connection agreed.",
        "高风资源场址，已落实并网协议。",
        (30, 350),
        "MW",
        (40, 420),
        ("green_loan", "project_equity", "guarantee"),
        (10, 18),
    ),
    "offshore_wind": (
        "{mw} MW offshore wind project, {place} coast",
        "{place}近海{mw}兆瓦海上风电项目",
        "Fixed-bottom offshore wind in shallow waters, phase one.",
        "浅海固定式海上风电一期。",
        (100, 600),
        "MW",
        (300, 1500),
        ("green_bond", "green_loan", "mezzanine"),
        (15, 20),
    ),
    "hydropower": (
        "{mw} MW run-of-river hydropower, {place}",
        "{place}{mw}兆瓦径流式水电站",
        "Run-of-river plant with low reservoir footprint and fish passage.",
        "径流式电站，库容小，设有鱼道。",
        (10, 250),
        "MW",
        (25, 480),
        ("green_loan", "green_bond"),
        (12, 25),
    ),
    "green_hydrogen": (
        "Green hydrogen plant ({mw} MW electrolysis), {place}",
        "{place}绿氢项目（{mw}兆瓦电解槽）",
        "Electrolysers powered by dedicated solar and wind for ammonia export.",
        "专属风光电源驱动电解槽，生产绿氨出口。",
        (20, 300),
        "MW",
        (80, 900),
        ("project_equity", "blended_facility", "green_loan"),
        (10, 18),
    ),
    "battery_storage": (
        "{mw} MW battery storage for grid balancing, {place}",
        "{place}{mw}兆瓦电网侧储能电站",
        "Lithium-iron-phosphate storage providing frequency response.",
        "磷酸铁锂储能，提供调频服务。",
        (20, 200),
        "MW",
        (20, 160),
        ("green_loan", "sustainability_linked_loan"),
        (7, 12),
    ),
    "ccus": (
        "Carbon capture retrofit at {place} industrial cluster",
        "{place}工业园区碳捕集改造",
        "Post-combustion capture with storage in a depleted reservoir.",
        "燃烧后捕集，封存于枯竭油气藏。",
        (None, None),
        None,
        (120, 600),
        ("blended_facility", "project_equity", "guarantee"),
        (10, 20),
    ),
    "e_mobility": (
        "Electric bus fleet and depots for {place}",
        "{place}电动公交车队及场站",
        "Replacement of diesel buses with electric buses and charging depots.",
        "以电动公交及充电场站替换柴油公交。",
        (None, None),
        None,
        (15, 140),
        ("green_loan", "sustainability_linked_loan"),
        (5, 12),
    ),
    "rail": (
        "Electrified rail link serving {place}",
        "服务{place}的电气化铁路",
        "Electrification and rolling stock for a passenger and freight line.",
        "客货线路电气化改造及车辆购置。",
        (None, None),
        None,
        (200, 1800),
        ("green_bond", "blended_facility", "guarantee"),
        (15, 25),
    ),
    "green_buildings": (
        "Certified green office and housing scheme, {place}",
        "{place}绿色认证办公及住宅项目",
        "Buildings designed to top-tier green certification with rooftop solar.",
        "按最高等级绿色建筑标准设计，配屋顶光伏。",
        (None, None),
        None,
        (20, 220),
        ("green_loan", "green_bond"),
        (7, 15),
    ),
    "water_management": (
        "Water treatment and leakage reduction, {place}",
        "{place}供水处理及管网降漏项目",
        "Treatment plant upgrade and network renewal cutting losses by a third.",
        "水厂升级和管网改造，漏损降低三分之一。",
        (None, None),
        None,
        (20, 260),
        ("green_loan", "blended_facility"),
        (10, 20),
    ),
}

PLACES = {
    "PK": ("Sindh", "信德省"),
    "BD": ("Chattogram", "吉大港"),
    "LK": ("Hambantota", "汉班托塔"),
    "NP": ("Gandaki", "甘达基"),
    "KZ": ("Zhambyl", "江布尔州"),
    "UZ": ("Navoi", "纳沃伊"),
    "KG": ("Issyk-Kul", "伊塞克湖州"),
    "MN": ("Gobi", "戈壁"),
    "ID": ("Sulawesi", "苏拉威西"),
    "VN": ("Ninh Thuan", "宁顺省"),
    "TH": ("Nakhon Ratchasima", "呵叻府"),
    "KH": ("Kampong Speu", "磅士卑省"),
    "LA": ("Luang Prabang", "琅勃拉邦"),
    "MY": ("Sarawak", "砂拉越"),
    "PH": ("Luzon", "吕宋"),
    "EG": ("Benban", "本班"),
    "MA": ("Ouarzazate", "瓦尔扎扎特"),
    "SA": ("Tabuk", "塔布克"),
    "AE": ("Abu Dhabi", "阿布扎比"),
    "OM": ("Duqm", "杜库姆"),
    "KE": ("Turkana", "图尔卡纳"),
    "ET": ("Afar", "阿法尔州"),
    "NG": ("Kano", "卡诺"),
    "ZA": ("Northern Cape", "北开普省"),
    "TZ": ("Dodoma", "多多马"),
    "ZM": ("Copperbelt", "铜带省"),
    "GH": ("Volta", "沃尔特区"),
    "SN": ("Thiès", "捷斯"),
    "RS": ("Vojvodina", "伏伊伏丁那"),
    "HU": ("Pécs", "佩奇"),
    "GE": ("Imereti", "伊梅列季"),
    "AZ": ("Absheron", "阿布歇隆"),
    "TR": ("Izmir", "伊兹密尔"),
    "CL": ("Atacama", "阿塔卡马"),
    "AR": ("Jujuy", "胡胡伊省"),
}

# Indicative rates entered with the demo data; an admin replaces them from market sources.
DEMO_FX_RATES = {
    "CNY": Decimal("0.13900000"),
    "HKD": Decimal("0.12820000"),
    "EUR": Decimal("1.08000000"),
}
DEMO_FX_SOURCE = (
    "Indicative rate entered with the demo data, not a market quote; "
    "an administrator should replace it with a dated rate from their market source."
)

PRODUCT_TYPES = (
    ("green_loan", "Green project loan", "绿色项目贷款"),
    ("green_bond", "Green bond underwriting and anchor investment", "绿色债券承销及基石投资"),
    ("sustainability_linked_loan", "Sustainability-linked loan", "可持续发展挂钩贷款"),
    ("project_equity", "Green infrastructure equity", "绿色基础设施股权投资"),
    ("mezzanine", "Mezzanine for energy transition", "能源转型夹层融资"),
    ("guarantee", "Partial credit guarantee", "部分信用担保"),
    ("carbon_credit_offtake", "Carbon-credit forward offtake", "碳信用远期收购"),
    ("blended_facility", "Blended finance facility", "混合融资工具"),
)

REGIONS = (
    "East Asia & Pacific",
    "Europe & Central Asia",
    "Middle East & North Africa",
    "South Asia",
    "Sub-Saharan Africa",
    "Latin America & Caribbean",
)
