"""The translation table (zh-CN, en) shared by errors, pages and the browser."""

from __future__ import annotations

LANGUAGES = ("zh-CN", "en")

# One table for every user-facing string; the browser receives the same table as JSON.
MESSAGES: dict[str, dict[str, str]] = {
    "app.title": {"en": "Hotline", "zh-CN": "Hotline 呼叫中心"},
    "login.title": {"en": "Sign in", "zh-CN": "登录"},
    "login.username": {"en": "Username", "zh-CN": "用户名"},
    "login.password": {"en": "Password", "zh-CN": "密码"},
    "login.submit": {"en": "Sign in", "zh-CN": "登录"},
    "login.failed": {"en": "Wrong username or password.", "zh-CN": "用户名或密码错误。"},
    "nav.logout": {"en": "Sign out", "zh-CN": "退出"},
    "nav.console": {"en": "Agent console", "zh-CN": "坐席工作台"},
    "nav.calls": {"en": "Call log", "zh-CN": "通话记录"},
    "state.available": {"en": "Available", "zh-CN": "空闲"},
    "state.not_ready": {"en": "Not ready", "zh-CN": "未就绪"},
    "state.ringing": {"en": "Ringing", "zh-CN": "振铃中"},
    "state.on_call": {"en": "On call", "zh-CN": "通话中"},
    "state.wrap_up": {"en": "Wrap-up", "zh-CN": "话后处理"},
    "state.offline": {"en": "Offline", "zh-CN": "离线"},
    "reason.break": {"en": "Break", "zh-CN": "休息"},
    "reason.lunch": {"en": "Lunch", "zh-CN": "用餐"},
    "reason.meeting": {"en": "Meeting", "zh-CN": "会议"},
    "reason.training": {"en": "Training", "zh-CN": "培训"},
    "reason.missed": {"en": "Missed call", "zh-CN": "未接来电"},
    "reason.phone_unreachable": {"en": "Phone unreachable", "zh-CN": "话机无法接通"},
    "card.incoming": {"en": "Incoming call", "zh-CN": "来电"},
    "card.answer": {"en": "Answer", "zh-CN": "接听"},
    "card.reject": {"en": "Reject", "zh-CN": "拒接"},
    "card.hangup": {"en": "Hang up", "zh-CN": "挂断"},
    "card.new_customer": {"en": "New customer", "zh-CN": "新客户"},
    "card.grade": {"en": "Grade", "zh-CN": "等级"},
    "card.last_calls": {"en": "Last calls", "zh-CN": "最近来电"},
    "card.wait": {"en": "Waited", "zh-CN": "等待"},
    "card.queue": {"en": "Queue", "zh-CN": "队列"},
    "wrapup.title": {"en": "Wrap-up", "zh-CN": "话后处理"},
    "wrapup.disposition": {"en": "Disposition", "zh-CN": "处理结果"},
    "wrapup.tags": {"en": "Tags", "zh-CN": "标签"},
    "wrapup.notes": {"en": "Notes", "zh-CN": "备注"},
    "wrapup.submit": {"en": "Finish wrap-up", "zh-CN": "完成话后处理"},
    "calls.mine": {"en": "My recent calls", "zh-CN": "我的最近通话"},
    "calls.export": {"en": "Export CSV", "zh-CN": "导出 CSV"},
    "calls.filter": {"en": "Filter", "zh-CN": "筛选"},
    "customer.name": {"en": "Name", "zh-CN": "姓名"},
    "customer.phones": {"en": "Phones", "zh-CN": "电话"},
    "customer.notes": {"en": "Notes", "zh-CN": "备注"},
    "customer.save": {"en": "Save customer", "zh-CN": "保存客户"},
    # Domain errors: stable id -> message.
    "error.not-found": {"en": "Not found.", "zh-CN": "未找到。"},
    "error.forbidden": {"en": "You may not do this.", "zh-CN": "您没有权限执行此操作。"},
    "error.login-required": {"en": "Please sign in.", "zh-CN": "请先登录。"},
    "error.invalid-input": {"en": "Invalid input: {detail}", "zh-CN": "输入无效:{detail}"},
    "error.invalid-state": {"en": "Unknown agent state.", "zh-CN": "未知的坐席状态。"},
    "error.invalid-reason": {"en": "Unknown not-ready reason.", "zh-CN": "未知的未就绪原因。"},
    "error.agent-not-found": {"en": "This user is not an agent.", "zh-CN": "该用户不是坐席。"},
    "error.agent-busy": {
        "en": "You are handling a call; finish it first.",
        "zh-CN": "您正在处理通话,请先完成。",
    },
    "error.call-not-offered": {
        "en": "This call is not offered to you.",
        "zh-CN": "该来电未分配给您。",
    },
    "error.call-not-found": {"en": "Call not found.", "zh-CN": "未找到该通话。"},
    "error.disposition-required": {
        "en": "Choose a disposition.",
        "zh-CN": "请选择处理结果。",
    },
    "error.unknown-disposition": {
        "en": "Unknown disposition.",
        "zh-CN": "未知的处理结果。",
    },
    "error.not-in-wrap-up": {
        "en": "This call is not waiting for wrap-up.",
        "zh-CN": "该通话不在话后处理阶段。",
    },
    "error.invalid-grade": {"en": "Grade must be A, B, C or D.", "zh-CN": "等级必须是 A、B、C 或 D。"},
    "error.invalid-phone": {"en": "Invalid phone number: {detail}", "zh-CN": "无效的电话号码:{detail}"},
    "error.name-required": {"en": "Name is required.", "zh-CN": "姓名为必填项。"},
    "error.username-taken": {"en": "Username already exists.", "zh-CN": "用户名已存在。"},
    "error.invalid-role": {"en": "Unknown role.", "zh-CN": "未知的角色。"},
    "error.csv-invalid": {"en": "CSV line {detail}", "zh-CN": "CSV 第 {detail}"},
    "error.csrf": {"en": "Session expired, reload the page.", "zh-CN": "会话已过期,请刷新页面。"},
}


def translate(key: str, language: str, **params: object) -> str:
    """The message for key in language (falling back to English, then the key)."""
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    text = entry.get(language) or entry.get("en") or key
    return text.format(**params) if params else text


def table(language: str) -> dict[str, str]:
    """The whole table in one language, for the browser."""
    return {k: v.get(language) or v["en"] for k, v in MESSAGES.items()}


def pick_language(requested: str | None, default: str = "zh-CN") -> str:
    """A supported language from a user preference or an Accept-Language value."""
    if requested:
        for part in requested.split(","):
            tag = part.split(";")[0].strip().lower()
            if tag.startswith("zh"):
                return "zh-CN"
            if tag.startswith("en"):
                return "en"
    return default


class DomainError(Exception):
    """An error with a stable id and a bilingual message; the web layer maps it to HTTP."""

    def __init__(self, error_id: str, detail: str = "", status: int = 400) -> None:
        super().__init__(f"{error_id}: {detail}" if detail else error_id)
        self.error_id = error_id
        self.detail = detail
        self.status = status

    def message(self, language: str) -> str:
        """The human message in the given language."""
        return translate(f"error.{self.error_id}", language, detail=self.detail)

    def as_dict(self, language: str) -> dict[str, str]:
        """The wire shape of the error."""
        return {"error": self.error_id, "message": self.message(language)}
