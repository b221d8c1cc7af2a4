"""Demo data: queues, agents, a supervisor, an admin, customers, dispositions."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.models import Disposition, Queue, User
from console.services import customers
from console.services.users import create_user

DISPOSITIONS = [
    ("resolved", "Resolved", "已解决"),
    ("callback", "Callback promised", "约定回电"),
    ("complaint", "Complaint registered", "投诉已登记"),
    ("repair", "Repair request", "报修"),
    ("sales-lead", "Sales lead", "销售线索"),
    ("info", "Information given", "咨询已答复"),
    ("wrong-number", "Wrong number", "打错电话"),
]

CUSTOMERS = [
    {"name": "张伟", "phones": "13800138000", "grade": "A", "notes": "VIP,燃气表年检客户", "fields": {"address": "北京市朝阳区建国路 88 号"}},
    {"name": "李娜", "phones": "13912345678;010-62345678", "grade": "B", "fields": {"address": "北京市海淀区中关村大街 1 号"}},
    {"name": "王芳", "phones": "+86 137 0000 1111", "grade": "C"},
    {"name": "Acme Logistics", "phones": "021-55556666", "grade": "A", "notes": "Key account, 12 trucks"},
    {"name": "刘洋", "phones": "15011112222", "grade": "D", "notes": "曾投诉送货延迟"},
    {"name": "陈静", "phones": "18600001234", "grade": "B"},
]


def seed(session: Session) -> bool:
    """Create the demo data once; returns False when it exists already."""
    if session.scalar(select(User).where(User.username == "admin")):
        return False
    for code, en, zh in DISPOSITIONS:
        session.add(Disposition(code=code, label_en=en, label_zh=zh))
    # Registration fields each queue asks for when a caller is registered (RULEBOOK §3).
    session.add(
        Queue(
            name="support", numbers=["10086", "4008001234"], skill="support", is_default=True,
            registration_fields=[{"key": "address"}, {"key": "intent"}],
        )
    )
    session.add(
        Queue(
            name="sales", numbers=["4008005678"], skill="sales", ring_timeout_s=15,
            registration_fields=[{"key": "company"}, {"key": "intent"}, {"key": "concerns"}],
        )
    )
    create_user(session, "admin", "admin", "admin", "管理员 Admin")
    create_user(session, "super1", "super1", "supervisor", "主管 Zhao")
    create_user(session, "planner", "planner", "scheduler", "排班 Wu")
    create_user(session, "agent1", "agent1", "agent", "坐席 Lin", skills=["support", "sales"], extension="8001")
    create_user(session, "agent2", "agent2", "agent", "Agent Kim", "en", skills=["support"], extension="8002")
    for data in CUSTOMERS:
        customers.create_customer(session, None, data)
    return True
