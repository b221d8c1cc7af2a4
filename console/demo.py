"""Demo data: queues, agents, a supervisor, an admin, customers, dispositions, and a published
roster."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.core.models import Disposition, Queue, RosterPlan, User
from console.core.states import DEFAULT_RING_TIMEOUT_S
from console.customers import services as customers
from console.forecasts import services as forecasts
from console.rosters import services as rosters
from console.users.services import create_user
from console.workforce import services as workforce

DISPOSITIONS = [
    ("resolved", "Resolved", "已解决"),
    ("callback", "Callback promised", "约定回电"),
    ("complaint", "Complaint registered", "投诉已登记"),
    ("repair", "Repair request", "报修"),
    ("sales-lead", "Sales lead", "销售线索"),
    ("info", "Information given", "咨询已答复"),
    ("wrong-number", "Wrong number", "打错电话"),
]

CUSTOMERS: list[dict[str, Any]] = [
    {
        "name": "张伟",
        "phones": "13800138000",
        "grade": "A",
        "notes": "VIP,燃气表年检客户",
        "fields": {"address": "北京市朝阳区建国路 88 号"},
    },
    {
        "name": "李娜",
        "phones": "13912345678;010-62345678",
        "grade": "B",
        "fields": {"address": "北京市海淀区中关村大街 1 号"},
    },
    {"name": "王芳", "phones": "+86 137 0000 1111", "grade": "C"},
    {
        "name": "Acme Logistics",
        "phones": "021-55556666",
        "grade": "A",
        "notes": "Key account, 12 trucks",
    },
    {"name": "刘洋", "phones": "15011112222", "grade": "D", "notes": "曾投诉送货延迟"},
    {"name": "陈静", "phones": "18600001234", "grade": "B"},
]


def seed(session: Session) -> bool:
    """Create the demo data once; returns False when it exists already."""
    if session.scalar(select(User).where(User.username == "admin")):
        return False
    for code, en, zh in DISPOSITIONS:
        session.add(Disposition(code=code, label_en=en, label_zh=zh))
    # Registration fields each queue asks for when a caller is registered (docs/rules.md §3.4).
    session.add(
        Queue(
            name="support",
            numbers=["10086", "4008001234"],
            skill="support",
            is_default=True,
            registration_fields=[{"key": "address"}, {"key": "intent"}],
        )
    )
    session.add(
        Queue(
            name="sales",
            numbers=["4008005678"],
            skill="sales",
            ring_timeout_s=DEFAULT_RING_TIMEOUT_S,
            registration_fields=[{"key": "company"}, {"key": "intent"}, {"key": "concerns"}],
        )
    )
    create_user(session, "admin", "admin", "admin", "管理员 Admin")
    create_user(session, "super1", "super1", "supervisor", "主管 Zhao")
    create_user(session, "planner", "planner", "scheduler", "排班 Wu")
    create_user(
        session,
        "agent1",
        "agent1",
        "agent",
        "坐席 Lin",
        skills=["support", "sales"],
        extension="8001",
    )
    create_user(
        session,
        "agent2",
        "agent2",
        "agent",
        "Agent Kim",
        "en",
        skills=["support"],
        extension="8002",
    )
    for data in CUSTOMERS:
        customers.create_customer(session, None, data)
    # The rulebooks' shift patterns and workforce rules, with a small demo site.
    workforce.seed_templates(session)
    cfg = workforce.settings_row(session, create=True)
    cfg.seats = 10
    # Open 08:00-22:00 (coverage gaps are checked inside these hours); whoever works the
    # early shift cleans the office before it, in turn.
    cfg.open_from, cfg.open_to = dt.time(8), dt.time(22)
    cfg.cleaning_template = "E"
    return True


# The rest of the demo team, so the published roster staffs the demo forecast like a real
# small centre: (username = password, name, language, skills).
TEAM = [
    ("agent3", "坐席 Chen", "zh-CN", ["support"]),
    ("agent4", "坐席 Zhou", "zh-CN", ["support"]),
    ("agent5", "坐席 Sun", "zh-CN", ["support", "sales"]),
    ("agent6", "坐席 Ma", "zh-CN", ["sales"]),
    ("agent7", "坐席 He", "zh-CN", ["support"]),
    ("agent8", "Agent Novak", "en", ["support", "sales"]),
    ("agent9", "坐席 Guo", "zh-CN", ["support"]),
    ("agent10", "坐席 Xu", "zh-CN", ["sales"]),
]


def _calls(hour: float, weekday: int, skill: str) -> float:
    """A typical service-line day: a morning and an afternoon peak, quieter weekends."""
    peak = math.exp(-((hour - 10.5) ** 2) / 4) + 0.8 * math.exp(-((hour - 15.0) ** 2) / 5)
    scale = (3.0 if skill == "support" else 1.2) * (0.6 if weekday >= 5 else 1.0)
    return round(scale * (0.3 + peak), 2)


def seed_workforce(session: Session, tz: str, today: dt.date) -> int | None:
    """Add the rest of the demo team, forecast three weeks from this Monday for every queue,
    then solve and publish two weeks from today.

    Returns the published roster's id (None when a roster exists already).
    """
    if session.scalar(select(RosterPlan.id).limit(1)) is not None:
        return None
    for n, (username, name, language, skills) in enumerate(TEAM, start=3):
        if session.scalar(select(User.id).where(User.username == username)) is None:
            create_user(
                session,
                username,
                username,
                "agent",
                name,
                language,
                skills=skills,
                extension=f"80{n:02d}",
            )
    monday = today - dt.timedelta(days=today.weekday())
    for queue in session.scalars(select(Queue).order_by(Queue.id)):
        lines = ["start,calls,aht_s"]
        for d in range(21):
            day = monday + dt.timedelta(days=d)
            for half in range(16, 44):  # 08:00 to 22:00
                hour = half / 2
                start = f"{day.isoformat()}T{half // 2:02d}:{30 * (half % 2):02d}"
                lines.append(f"{start},{_calls(hour, day.weekday(), queue.skill)},200")
        forecasts.import_csv(session, queue.id, "\n".join(lines) + "\n", tz)
    # The roster starts today: nobody has missed a shift of it yet when the demo opens.
    plan = rosters.create(
        session, {"start": today.isoformat(), "weeks": 2, "time_limit_s": 10, "name": "Demo"}, None
    )
    rosters.solve_now(session, plan, tz)
    if plan.status == "solved" and not plan.violations:
        rosters.publish(session, plan, tz, None)
    return plan.id
