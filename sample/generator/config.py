"""What the generator draws from: names, cities, numbers, platforms, and the sizes and noise rates
of a sample (`GeneratorConfig`; the defaults are the bundled sample's)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Surnames by their share of China's population (the 2020 census order; the top five are one in
# three people), then a tail of rarer ones sharing what is left.
SURNAME_SHARES = {
    "王": 7.1, "李": 7.0, "张": 6.7, "刘": 5.4, "陈": 4.5, "杨": 3.1, "黄": 2.2, "赵": 2.2, "吴": 2.0,
    "周": 1.9, "徐": 1.7, "孙": 1.5, "马": 1.4, "朱": 1.3, "胡": 1.3, "郭": 1.2, "何": 1.2, "高": 1.1,
    "林": 1.1, "罗": 0.9, "郑": 0.9, "梁": 0.9, "谢": 0.8, "宋": 0.7, "唐": 0.7, "许": 0.7, "韩": 0.7,
    "冯": 0.7, "邓": 0.7, "曹": 0.7, "彭": 0.6, "曾": 0.6, "肖": 0.6, "田": 0.6, "董": 0.6, "袁": 0.5,
    "潘": 0.5, "于": 0.5, "蒋": 0.5, "蔡": 0.5, "余": 0.5, "杜": 0.5, "叶": 0.4, "程": 0.4, "苏": 0.4,
    "魏": 0.4, "吕": 0.4, "丁": 0.4, "任": 0.4, "沈": 0.3,
}  # fmt: skip
RARE_SURNAMES = list(
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
SURNAMES = list(SURNAME_SHARES) + RARE_SURNAMES
SURNAME_WEIGHTS = np.array(
    list(SURNAME_SHARES.values()) + [(100 - sum(SURNAME_SHARES.values())) / len(RARE_SURNAMES)] * len(RARE_SURNAMES)
)
# Given-name characters, most popular first: a few are very common, so full names repeat a lot
# (there are hundreds of thousands of 张伟 in China).
GIVEN = list(
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂兰玉萍红梅鑫波斌宇浩凯健俊帆帅旭宁龙林欣佳琪思雨晨阳婷雪慧颖露瑶"
)
GIVEN_WEIGHTS = 1.0 / np.arange(1, len(GIVEN) + 1) ** 0.8
# Nicknames on WeChat, Weibo and the shops: a person picks one per platform, and it is not their
# name (though some start with a character that is also a surname: 王者归来, 高冷女神).
NICK_HEADS = [
    "快乐的", "安静的", "追风", "一米", "浅笑", "王者", "高冷", "小猪", "阳光", "孤独的", "奔跑的", "温柔",
    "江南", "月光", "飞翔的", "爱吃鱼的", "不二", "小小", "糖果", "北方的", "林间", "白色",
]  # fmt: skip
NICK_TAILS = [
    "飞侠", "女孩", "少年", "阳光", "安然", "归来", "女神", "佩奇", "猫", "狼", "小熊", "风", "旅人", "咸鱼",
    "星星", "大叔", "宝宝", "同学", "妈妈", "日记", "时光", "向日葵",
]  # fmt: skip
NICK_LATIN = ["Lucy", "Tony", "Kevin", "Amy", "Jack", "Coco", "Leo", "Mia", "sunny", "echo", "momo", "xiaoyu"]
NICK_TITLES = ["先生", "小姐", "哥", "姐", "老师", "总"]
DISTRICTS = ["朝阳区", "海淀区", "浦东新区", "徐汇区", "天河区", "南山区", "西湖区", "武侯区", "鼓楼区", "江汉区"]
STREETS = ["人民路", "解放路", "中山路", "建设路", "和平路", "长江路", "新华路", "文化路", "光明路", "青年路"]
CITIES = ["上海", "北京", "广州", "深圳", "杭州", "成都", "南京", "武汉", "苏州", "西安", "重庆", "天津"]
CITY_WEIGHTS = np.array([16, 14, 10, 10, 9, 8, 7, 6, 6, 5, 5, 4], dtype=float)
MOBILE_PREFIXES = np.array(
    [
        130,
        131,
        132,
        133,
        135,
        136,
        137,
        138,
        139,
        150,
        151,
        152,
        155,
        156,
        157,
        158,
        159,
        176,
        177,
        178,
        180,
        181,
        182,
        183,
        185,
        186,
        187,
        188,
        189,
    ]
)
EMAIL_DOMAINS = ["qq.com", "163.com", "126.com", "sina.com", "gmail.com", "outlook.com"]
LEVELS = ["普通卡", "银卡", "金卡", "钻石卡"]
JUNK_PHONES = ["13800000000", "13888888888", "13900000000"]
PLATFORMS = ["tmall", "jd", "douyin", "miniprogram"]
PLATFORM_WEIGHTS = np.array([0.35, 0.2, 0.15, 0.3])
# Share of a platform's orders whose receiver mobile comes masked (138****5678).
PLATFORM_MASK_RATE = {"tmall": 0.5, "jd": 0.5, "douyin": 1.0, "miniprogram": 0.0}
PAYMENTS = ["wechat_pay", "alipay", "unionpay", "cash"]
EVENT_TYPES = ["read", "like", "comment", "share", "message", "complaint"]
EVENT_WEIGHTS = np.array([0.54, 0.2, 0.1, 0.08, 0.07, 0.01])
CAMPAIGNS = ["c2025spring", "c2025double11", "c2026spring", "c2026summer"]
SOURCES = [
    "member_cards",
    "wechat_followers",
    "weibo_followers",
    "social_interactions",
    "online_orders",
    "pos_receipts",
]
SHARD_PEOPLE = 1_000_000  # people generated at once; bigger samples are written shard by shard
INTERACTION_BLOCK = 250_000  # followers per block of generated interactions
FULLWIDTH = {str(d): chr(0xFF10 + d) for d in range(10)}

MEMBER_HEADERS = {
    "card_no": "会员卡号",
    "name": "姓名",
    "phone": "手机号",
    "email": "邮箱",
    "gender": "性别",
    "birthday": "生日",
    "city": "城市",
    "store": "开卡门店",
    "opened_on": "开卡日期",
    "level": "等级",
    "points": "积分",
    "unionid": "微信UnionID",
    "wechat_openid": "微信OpenID",
    "referrer_card_no": "推荐人卡号",
    "sms_opt_in": "短信营销",
    "email_opt_in": "邮件营销",
    "updated_at": "更新时间",
}


@dataclass(frozen=True)
class GeneratorConfig:
    """Sizes and noise rates; the defaults are the bundled sample's."""

    people: int = 2000
    seed: int = 42
    start: str = "2025-01-01"
    end: str = "2026-10-31"
    pos_days: int = 120  # the POS export window ends at `end`
    member_rate: float = 0.45
    wechat_rate: float = 0.6
    weibo_rate: float = 0.08
    online_rate: float = 0.5
    offline_rate: float = 0.45
    unionid_rate: float = 0.6  # followers whose unionid the platform returns
    wechat_card_binding_rate: float = 0.6  # members who follow and bound the WeChat member card
    email_rate: float = 0.35
    changed_phone_rate: float = 0.04  # got a new number; old one stays on the member card
    recycled_number_rate: float = 0.5  # of the numbers given up, reissued by the carrier to someone else
    household_rate: float = 0.3  # people living with others (same address; children share a surname)
    family_phone_rate: float = 0.15  # of households, one member uses another's phone
    second_card_rate: float = 0.03  # members with a second card at another store
    reissued_card_rate: float = 0.02  # members whose lost card was replaced by a new number
    gift_order_rate: float = 0.08  # online orders delivered to somebody else (name, phone, address)
    nickname_is_name_rate: float = 0.05  # people whose nickname on a platform is their real name
    junk_phone_card_rate: float = 0.005  # clerk typed a junk number on the card
    name_typo_rate: float = 0.03
    referred_rate: float = 0.15
    fake_follower_rate: float = 0.02
    walk_in_receipt_rate: float = 0.2  # anonymous receipts per known receipt
    walk_in_junk_phone_rate: float = 0.1  # walk-ins given a placeholder number (13800000000)
    walk_in_till_number_rate: float = 0.25  # walk-ins given the store's or a cashier's own mobile
    staff_member_rate: float = 0.5  # cashiers whose number is typed for walk-ins who are members themselves
    refund_rate: float = 0.06
    sms_opt_out_rate: float = 0.08  # opted in first, then opted out in a later export
    unsubscribe_rate: float = 0.12
    self_referral_rate: float = 0.002
    bad_row_rate: float = 0.001  # corrupt rows added to each source (rejects expected)
    interactions_per_follower: float = 8.0
