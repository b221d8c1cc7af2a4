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
    # Browser console and call log (static/).
    "state.reason": {"en": "Not-ready reason", "zh-CN": "未就绪原因"},
    "console.connecting": {"en": "Connecting…", "zh-CN": "正在连接…"},
    "console.reconnecting": {"en": "Connection lost, reconnecting…", "zh-CN": "连接已断开,正在重连…"},
    "console.offline_link": {"en": "Not connected to the server.", "zh-CN": "未连接到服务器。"},
    "console.no_answer": {"en": "The server did not answer; try again.", "zh-CN": "服务器无响应,请重试。"},
    "common.loading": {"en": "Loading…", "zh-CN": "加载中…"},
    "common.network_error": {"en": "Network error; check the connection.", "zh-CN": "网络错误,请检查网络连接。"},
    "common.server_error": {"en": "Server error ({status}).", "zh-CN": "服务器错误({status})。"},
    "card.countdown": {"en": "Seconds left to answer", "zh-CN": "剩余接听秒数"},
    "card.talk": {"en": "Talk", "zh-CN": "通话"},
    "card.mute": {"en": "Mute ring", "zh-CN": "铃声静音"},
    "card.unmute": {"en": "Unmute ring", "zh-CN": "恢复铃声"},
    "card.no_customer": {"en": "No customer file matches this number.", "zh-CN": "该号码未匹配到客户档案。"},
    "card.no_last_calls": {"en": "No earlier calls.", "zh-CN": "无历史来电。"},
    "card.several_customers": {"en": "{n} customers share this number.", "zh-CN": "该号码对应 {n} 位客户。"},
    "card.waiting": {"en": "Waiting for calls…", "zh-CN": "等待来电…"},
    "card.idle.not_ready": {"en": "Not ready: no calls will be offered.", "zh-CN": "未就绪:不会分配来电。"},
    "card.idle.offline": {"en": "Offline. Press Available (F2) to take calls.", "zh-CN": "离线。按“空闲”(F2)开始接听。"},
    "card.busy.answer": {"en": "Connecting…", "zh-CN": "正在接通…"},
    "card.busy.reject": {"en": "Rejecting…", "zh-CN": "正在拒接…"},
    "card.busy.hangup": {"en": "Hanging up…", "zh-CN": "正在挂断…"},
    "card.withdrawn.rona": {"en": "Missed: the call was not answered in time.", "zh-CN": "未接:振铃超时,来电已转出。"},
    "card.withdrawn.rejected": {"en": "Call rejected.", "zh-CN": "已拒接来电。"},
    "card.withdrawn.caller-hangup": {"en": "The caller hung up.", "zh-CN": "来电者已挂断。"},
    "card.withdrawn.phone-unreachable": {"en": "Your phone could not be reached.", "zh-CN": "您的话机无法接通。"},
    "end.caller-hangup": {"en": "Caller hung up", "zh-CN": "客户挂断"},
    "end.agent-hangup": {"en": "Agent hung up", "zh-CN": "坐席挂断"},
    "end.abandoned": {"en": "Abandoned", "zh-CN": "放弃"},
    "end.worker-restart": {"en": "System restart", "zh-CN": "系统重启"},
    "end.worker-stopped": {"en": "System stopped", "zh-CN": "系统停止"},
    "end.phone-unreachable": {"en": "Phone unreachable", "zh-CN": "话机无法接通"},
    "wrapup.choose": {"en": "— choose —", "zh-CN": "— 请选择 —"},
    "wrapup.tag": {"en": "Tag", "zh-CN": "标签"},
    "wrapup.tags_hint": {"en": "comma separated", "zh-CN": "用逗号分隔"},
    "wrapup.end_reason": {"en": "Ended", "zh-CN": "结束原因"},
    "wrapup.overdue": {"en": "Wrap-up overdue", "zh-CN": "话后处理已超时"},
    "wrapup.done": {"en": "Wrap-up saved; you are available.", "zh-CN": "话后处理已完成,您已恢复空闲。"},
    "customer.edit": {"en": "Customer file", "zh-CN": "客户档案"},
    "customer.fields": {"en": "Registration fields", "zh-CN": "登记信息"},
    "customer.add_field": {"en": "Add field", "zh-CN": "添加字段"},
    "customer.remove_field": {"en": "Remove field", "zh-CN": "删除字段"},
    "customer.field_name": {"en": "Field", "zh-CN": "字段"},
    "customer.field_value": {"en": "Value", "zh-CN": "内容"},
    "customer.saved": {"en": "Saved.", "zh-CN": "已保存。"},
    "field.address": {"en": "Address", "zh-CN": "地址"},
    "field.age": {"en": "Age", "zh-CN": "年龄"},
    "field.gender": {"en": "Gender", "zh-CN": "性别"},
    "field.company": {"en": "Company", "zh-CN": "单位"},
    "field.history": {"en": "History", "zh-CN": "病史"},
    "field.intent": {"en": "Intent", "zh-CN": "意向"},
    "field.concerns": {"en": "Concerns", "zh-CN": "顾虑"},
    "calls.time": {"en": "Time", "zh-CN": "时间"},
    "calls.caller": {"en": "Caller", "zh-CN": "来电号码"},
    "calls.agent": {"en": "Agent", "zh-CN": "坐席"},
    "calls.talk": {"en": "Talk", "zh-CN": "通话时长"},
    "calls.end_reason": {"en": "End reason", "zh-CN": "结束原因"},
    "calls.in_progress": {"en": "In progress", "zh-CN": "进行中"},
    "calls.no_disposition": {"en": "No disposition", "zh-CN": "未填写处理结果"},
    "calls.empty": {"en": "No calls.", "zh-CN": "没有通话记录。"},
    "calls.refresh": {"en": "Refresh", "zh-CN": "刷新"},
    "calls.from": {"en": "From", "zh-CN": "开始时间"},
    "calls.to": {"en": "To", "zh-CN": "结束时间"},
    "calls.queue_id": {"en": "Queue ID", "zh-CN": "队列 ID"},
    "calls.agent_id": {"en": "Agent ID", "zh-CN": "坐席 ID"},
    "calls.number": {"en": "Number", "zh-CN": "号码"},
    "calls.any": {"en": "Any", "zh-CN": "全部"},
    "calls.reset": {"en": "Clear", "zh-CN": "清空"},
    "calls.prev": {"en": "Previous", "zh-CN": "上一页"},
    "calls.next": {"en": "Next", "zh-CN": "下一页"},
    "calls.page": {"en": "{from}–{to} of {total}", "zh-CN": "第 {from}–{to} 条,共 {total} 条"},
    "help.title": {"en": "Keyboard shortcuts", "zh-CN": "键盘快捷键"},
    "help.typing": {
        "en": "Letter keys do nothing while you type in a field; F-keys and Ctrl+Enter always work.",
        "zh-CN": "在输入框中打字时字母快捷键不生效;F 键和 Ctrl+Enter 始终有效。",
    },
    # Forecast and staffing requirement (schedule/forecast).
    "nav.forecast": {"en": "Forecast", "zh-CN": "话务预测"},
    "forecast.title": {"en": "Forecast and staffing", "zh-CN": "话务预测与人力需求"},
    "forecast.queue": {"en": "Queue", "zh-CN": "队列"},
    "forecast.week": {"en": "Week", "zh-CN": "周"},
    "forecast.weeks": {"en": "Weeks to generate", "zh-CN": "生成周数"},
    "forecast.generate": {"en": "Generate from history", "zh-CN": "根据历史生成"},
    "forecast.import": {"en": "Import CSV", "zh-CN": "导入 CSV"},
    "forecast.imported": {"en": "Imported {n} intervals.", "zh-CN": "已导入 {n} 个时段。"},
    "forecast.generated": {"en": "Generated {n} intervals; your edits were kept.", "zh-CN": "已生成 {n} 个时段,手工修改已保留。"},
    "forecast.saved": {"en": "Saved.", "zh-CN": "已保存。"},
    "forecast.empty": {"en": "No forecast for this week. Generate one or import a CSV.", "zh-CN": "本周暂无预测。请生成或导入 CSV。"},
    "forecast.time": {"en": "Interval", "zh-CN": "时段"},
    "forecast.calls": {"en": "Calls", "zh-CN": "来电量"},
    "forecast.aht": {"en": "AHT (s)", "zh-CN": "平均处理时长(秒)"},
    "forecast.erlangs": {"en": "Erlangs", "zh-CN": "话务量(爱尔兰)"},
    "forecast.agents": {"en": "Agents", "zh-CN": "所需坐席"},
    "forecast.agents_shrinkage": {"en": "Agents + shrinkage", "zh-CN": "含损耗坐席"},
    "forecast.sl": {"en": "SL %", "zh-CN": "服务水平 %"},
    "forecast.asa": {"en": "ASA (s)", "zh-CN": "平均应答时间(秒)"},
    "forecast.edited": {"en": "Edited by hand", "zh-CN": "已手工修改"},
    "forecast.edit_hint": {"en": "Press Enter to save", "zh-CN": "按 Enter 保存"},
    "forecast.chart": {"en": "Required agents per interval", "zh-CN": "各时段所需坐席"},
    "forecast.settings": {"en": "Staffing settings", "zh-CN": "人力参数"},
    "forecast.interval_min": {"en": "Interval (min)", "zh-CN": "时段长度(分钟)"},
    "forecast.target_sl": {"en": "Service level target %", "zh-CN": "服务水平目标 %"},
    "forecast.target_answer_s": {"en": "Answered within (s)", "zh-CN": "应答时限(秒)"},
    "forecast.shrinkage": {"en": "Shrinkage %", "zh-CN": "人力损耗 %"},
    "forecast.max_occupancy": {"en": "Max occupancy % (optional)", "zh-CN": "最高占用率 %(可选)"},
    "forecast.patience_s": {"en": "Caller patience s (optional, Erlang A)", "zh-CN": "客户耐心时长秒(可选,Erlang A)"},
    "forecast.save_settings": {"en": "Save settings", "zh-CN": "保存参数"},
    "forecast.model.erlang_c": {"en": "Model: Erlang C", "zh-CN": "模型:Erlang C"},
    "forecast.model.erlang_a": {"en": "Model: Erlang A", "zh-CN": "模型:Erlang A"},
    "forecast.no_queues": {"en": "No queues.", "zh-CN": "没有队列。"},
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
    "error.forecast-csv-invalid": {
        "en": "Forecast CSV is invalid, nothing was imported (line {detail}).",
        "zh-CN": "预测 CSV 有误,未导入任何数据(行 {detail})。",
    },
    "error.forecast-no-history": {
        "en": "Not enough call history to forecast from. {detail}",
        "zh-CN": "通话历史不足,无法生成预测。{detail}",
    },
    "error.queue-not-found": {"en": "Queue not found.", "zh-CN": "未找到该队列。"},
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
