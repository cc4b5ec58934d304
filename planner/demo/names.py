"""Names of the demo counties, their townships and villages (all invented)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEMO_SLUG = "qingxi"
DEMO_NAME = "青溪县"


@dataclass(frozen=True)
class DemoIdentity:
    """Name, codes and place of a demo county."""

    slug: str
    name: str
    pinyin: str
    code: str  # 6-digit county code; townships append 3 digits
    center: tuple[float, float]  # lon, lat


QINGXI = DemoIdentity(DEMO_SLUG, DEMO_NAME, "Qingxi Xian", "361199", (117.3, 28.3))

#: Fictional counties for ``planner demo --province N`` (the first is the usual demo).
PROVINCE_NAMES = (
    ("qingxi", "青溪县", "Qingxi Xian"),
    ("shimen", "石门县", "Shimen Xian"),
    ("yunling", "云岭县", "Yunling Xian"),
    ("taojiang", "桃江县", "Taojiang Xian"),
    ("baihe", "白河县", "Baihe Xian"),
    ("songyang", "松阳县", "Songyang Xian"),
    ("lianhua", "莲花县", "Lianhua Xian"),
    ("zhuxi", "竹溪县", "Zhuxi Xian"),
    ("jinping", "锦屏县", "Jinping Xian"),
    ("anyuan", "安远县", "Anyuan Xian"),
)
#: Most counties ``planner demo --province N`` makes.
MAX_PROVINCE = 100

#: Characters of the invented county names past the first ten, each with its pinyin
#: (first and second character); the order matters, as names are made in this order.
_COUNTY_FIRST_TEXT = "丰Feng 永Yong 安An 宁Ning 平Ping 兴Xing 长Chang 和He 泰Tai 顺Shun"
_COUNTY_SECOND_TEXT = "川chuan 源yuan 阳yang 乐le 城cheng 丘qiu 溪xi 田tian 江jiang 山shan 泉quan"
_COUNTY_FIRST = {w[0]: w[1:] for w in _COUNTY_FIRST_TEXT.split(" ")}
_COUNTY_SECOND = {w[0]: w[1:] for w in _COUNTY_SECOND_TEXT.split(" ")}


def province_names(n: int) -> list[tuple[str, str, str]]:
    """Slug, name and pinyin of ``n`` fictional counties (at most :data:`MAX_PROVINCE`).

    The first ten are :data:`PROVINCE_NAMES`; the others are two invented characters and
    县, in a fixed order, skipping a name or slug already used.
    """
    if not 1 <= n <= MAX_PROVINCE:
        msg = f"--province must be between 1 and {MAX_PROVINCE}, got {n}"
        raise ValueError(msg)
    names = list(PROVINCE_NAMES)
    used = {x for row in names for x in row[:2]}
    for a, pa in _COUNTY_FIRST.items():
        for b, pb in _COUNTY_SECOND.items():
            slug, name = f"{pa}{pb}".lower(), f"{a}{b}县"
            if slug not in used and name not in used:
                names.append((slug, name, f"{pa}{pb} Xian"))
                used |= {slug, name}
    return names[:n]


#: Townships (镇 towns and 乡 townships) in order: the first holds the county seat.
_TOWNSHIPS = [
    ("城关镇", "Chengguan Zhen"),
    ("石塘镇", "Shitang Zhen"),
    ("河口镇", "Hekou Zhen"),
    ("青山乡", "Qingshan Xiang"),
    ("龙门乡", "Longmen Xiang"),
    ("桃源镇", "Taoyuan Zhen"),
    ("白沙乡", "Baisha Xiang"),
    ("枫林镇", "Fenglin Zhen"),
    ("高坪乡", "Gaoping Xiang"),
    ("松溪镇", "Songxi Zhen"),
    ("梅岭乡", "Meiling Xiang"),
    ("新田镇", "Xintian Zhen"),
    ("金竹乡", "Jinzhu Xiang"),
    ("东港镇", "Donggang Zhen"),
    ("西坑乡", "Xikeng Xiang"),
    ("红岩镇", "Hongyan Zhen"),
]
#: First characters of village names (a family name, a direction, a tree, ...), each with
#: its pinyin; the order matters, as the seeded draw picks by position.
_FIRST_TEXT = (
    "张Zhang 李Li 王Wang 陈Chen 刘Liu 黄Huang 周Zhou 吴Wu 徐Xu 胡Hu 朱Zhu 高Gao 林Lin "
    "何He 郭Guo 罗Luo 梁Liang 宋Song 上Shang 下Xia 东Dong 西Xi 南Nan 北Bei 大Da 小Xiao "
    "新Xin 老Lao 石Shi 竹Zhu 桃Tao 柳Liu 杨Yang 梅Mei 枫Feng 松Song 龙Long 凤Feng "
    "金Jin 银Yin 青Qing 白Bai 红Hong 槐Huai 茶Cha"
)
#: Second characters of village names (a landform: pit, flat, spring, ridge, ...).
_SECOND_TEXT = (
    "家jia 坑keng 坪ping 源yuan 岭ling 山shan 田tian 塘tang 桥qiao 湾wan 口kou 坊fang "
    "溪xi 垅long 洲zhou 港gang 畈fan 坞wu 岗gang 庄zhuang"
)
_FIRST = {w[0]: w[1:] for w in _FIRST_TEXT.split()}
_SECOND = {w[0]: w[1:] for w in _SECOND_TEXT.split()}


def township_names(n: int) -> list[tuple[str, str]]:
    """Names and pinyin of ``n`` townships, the county seat's first.

    Large synthetic counties (``--scale``) repeat the table's names with a number.
    """
    names = list(_TOWNSHIPS)
    while len(names) < n:
        base = _TOWNSHIPS[len(names) % len(_TOWNSHIPS)]
        k = len(names) // len(_TOWNSHIPS) + 1
        names.append((f"{base[0][:-1]}{k}{base[0][-1]}", f"{base[1]} {k}"))
    return names[:n]


def village_name(rng: np.random.Generator, used: set[str]) -> tuple[str, str]:
    """A village name not in ``used`` (which it joins) and its pinyin.

    Two characters drawn from the tables, then 村; ``新建<n>村`` once 1,000 draws found
    only names already used.
    """
    first, second = list(_FIRST), list(_SECOND)
    for _ in range(1000):
        a, b = first[rng.integers(len(first))], second[rng.integers(len(second))]
        name = f"{a}{b}村"
        if name not in used:
            used.add(name)
            return name, f"{_FIRST[a]}{_SECOND[b]} Cun"
    n = len(used)
    name = f"新建{n}村"
    used.add(name)
    return name, f"Xinjian {n} Cun"
