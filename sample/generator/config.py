"""What the generator draws from: names, cities, numbers, platforms, and the sizes and noise rates
of a sample (`GeneratorConfig`; the defaults are the bundled sample's)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈")
GIVEN = list(
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂兰玉萍红梅鑫波斌宇浩凯健俊帆帅旭宁龙林欣佳琪思雨晨阳婷雪慧颖露瑶"
)
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
    family_phone_rate: float = 0.01  # uses a household member's phone
    junk_phone_card_rate: float = 0.005  # clerk typed a junk number on the card
    name_typo_rate: float = 0.03
    referred_rate: float = 0.15
    fake_follower_rate: float = 0.02
    walk_in_receipt_rate: float = 0.2  # anonymous receipts per known receipt
    walk_in_junk_phone_rate: float = 0.3
    refund_rate: float = 0.06
    sms_opt_out_rate: float = 0.08  # opted in first, then opted out in a later export
    unsubscribe_rate: float = 0.12
    self_referral_rate: float = 0.002
    bad_row_rate: float = 0.001  # corrupt rows added to each source (rejects expected)
    interactions_per_follower: float = 8.0
