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
    "login.locked": {
        "en": "Too many failed sign-ins: sign-in is locked for {wait}. Try again later.",
        "zh-CN": "登录失败次数过多,已锁定 {wait},请稍后再试。",
    },
    "login.wait_seconds": {"en": "{n} s", "zh-CN": "{n} 秒"},
    "login.wait_minutes": {"en": "{n} min", "zh-CN": "{n} 分钟"},
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
    "console.reconnecting": {
        "en": "Connection lost, reconnecting…",
        "zh-CN": "连接已断开,正在重连…",
    },
    "console.offline_link": {"en": "Not connected to the server.", "zh-CN": "未连接到服务器。"},
    "console.no_answer": {
        "en": "The server did not answer; try again.",
        "zh-CN": "服务器无响应,请重试。",
    },
    "common.loading": {"en": "Loading…", "zh-CN": "加载中…"},
    "common.network_error": {
        "en": "Network error; check the connection.",
        "zh-CN": "网络错误,请检查网络连接。",
    },
    "common.server_error": {"en": "Server error ({status}).", "zh-CN": "服务器错误({status})。"},
    "card.countdown": {"en": "Seconds left to answer", "zh-CN": "剩余接听秒数"},
    "card.talk": {"en": "Talk", "zh-CN": "通话"},
    "card.mute": {"en": "Mute ring", "zh-CN": "铃声静音"},
    "card.unmute": {"en": "Unmute ring", "zh-CN": "恢复铃声"},
    "card.no_customer": {
        "en": "No customer file matches this number.",
        "zh-CN": "该号码未匹配到客户档案。",
    },
    "card.no_last_calls": {"en": "No earlier calls.", "zh-CN": "无历史来电。"},
    "card.several_customers": {
        "en": "{n} customers share this number.",
        "zh-CN": "该号码对应 {n} 位客户。",
    },
    "card.waiting": {"en": "Waiting for calls…", "zh-CN": "等待来电…"},
    "card.idle.not_ready": {
        "en": "Not ready: no calls will be offered.",
        "zh-CN": "未就绪:不会分配来电。",
    },
    "card.idle.offline": {
        "en": "Offline. Press Available (F2) to take calls.",
        "zh-CN": "离线。按“空闲”(F2)开始接听。",
    },
    "card.busy.answer": {"en": "Connecting…", "zh-CN": "正在接通…"},
    "card.busy.reject": {"en": "Rejecting…", "zh-CN": "正在拒接…"},
    "card.busy.hangup": {"en": "Hanging up…", "zh-CN": "正在挂断…"},
    "card.withdrawn.rona": {
        "en": "Missed: the call was not answered in time.",
        "zh-CN": "未接:振铃超时,来电已转出。",
    },
    "card.withdrawn.rejected": {"en": "Call rejected.", "zh-CN": "已拒接来电。"},
    "card.withdrawn.caller-hangup": {"en": "The caller hung up.", "zh-CN": "来电者已挂断。"},
    "card.withdrawn.phone-unreachable": {
        "en": "Your phone could not be reached.",
        "zh-CN": "您的话机无法接通。",
    },
    "end.caller-hangup": {"en": "Caller hung up", "zh-CN": "客户挂断"},
    "end.agent-hangup": {"en": "Agent hung up", "zh-CN": "坐席挂断"},
    "end.abandoned": {"en": "Abandoned", "zh-CN": "放弃"},
    "end.worker-restart": {"en": "System restart", "zh-CN": "系统重启"},
    "end.worker-stopped": {"en": "System stopped", "zh-CN": "系统停止"},
    "end.phone-unreachable": {"en": "Phone unreachable", "zh-CN": "话机无法接通"},
    "end.no-capacity": {"en": "Turned away: all lines busy", "zh-CN": "线路全忙,未接入"},
    "end.refused": {"en": "Turned away", "zh-CN": "未接入"},
    "end.no-ack": {"en": "Caller never confirmed the call", "zh-CN": "主叫未确认接通"},
    "calls.number_invalid": {
        "en": "Not a valid number; kept as received",
        "zh-CN": "号码无效,按原样保存",
    },
    "calls.needs_wrap_up": {"en": "Needs wrap-up", "zh-CN": "待话后处理"},
    "calls.needs_wrap_up_only": {"en": "Needs wrap-up only", "zh-CN": "仅看待话后处理"},
    "wrapup.pending": {"en": "Calls waiting for your wrap-up", "zh-CN": "待您完成话后处理的通话"},
    "wrapup.pending_hint": {
        "en": "These calls ended when the system stopped; add the disposition now.",
        "zh-CN": "这些通话因系统中断而结束,请补填处理结果。",
    },
    "wrapup.choose": {"en": "— choose —", "zh-CN": "— 请选择 —"},
    "wrapup.tag": {"en": "Tag", "zh-CN": "标签"},
    "wrapup.tags_hint": {"en": "comma separated", "zh-CN": "用逗号分隔"},
    "wrapup.end_reason": {"en": "Ended", "zh-CN": "结束原因"},
    "wrapup.overdue": {"en": "Wrap-up overdue", "zh-CN": "话后处理已超时"},
    "wrapup.done": {
        "en": "Wrap-up saved; you are available.",
        "zh-CN": "话后处理已完成,您已恢复空闲。",
    },
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
        "en": (
            "Letter keys do nothing while you type in a field; F-keys and Ctrl+Enter always work."
        ),
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
    "forecast.generated": {
        "en": "Generated {n} intervals; your edits were kept.",
        "zh-CN": "已生成 {n} 个时段,手工修改已保留。",
    },
    "forecast.saved": {"en": "Saved.", "zh-CN": "已保存。"},
    "forecast.empty": {
        "en": "No forecast for this week. Generate one or import a CSV.",
        "zh-CN": "本周暂无预测。请生成或导入 CSV。",
    },
    "forecast.time": {"en": "Interval", "zh-CN": "时段"},
    "forecast.calls": {"en": "Calls", "zh-CN": "来电量"},
    "forecast.actual": {"en": "Actual calls", "zh-CN": "实际来电"},
    "forecast.accuracy": {
        "en": (
            "Forecast accuracy over {n} past intervals: forecast {forecast} calls, actual "
            "{actual}; WAPE {wape}%, bias {bias}%."
        ),
        "zh-CN": (
            "已过去 {n} 个时段的预测准确度:预测 {forecast} 通,实际 {actual} 通;加权误差 "
            "{wape}%,偏差 {bias}%。"
        ),
    },
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
    "forecast.patience_s": {
        "en": "Caller patience s (optional, Erlang A)",
        "zh-CN": "客户耐心时长秒(可选,Erlang A)",
    },
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
    "error.invalid-grade": {
        "en": "Grade must be A, B, C or D.",
        "zh-CN": "等级必须是 A、B、C 或 D。",
    },
    "error.invalid-phone": {
        "en": "Invalid phone number: {detail}",
        "zh-CN": "无效的电话号码:{detail}",
    },
    "error.name-required": {"en": "Name is required.", "zh-CN": "姓名为必填项。"},
    "error.username-taken": {"en": "Username already exists.", "zh-CN": "用户名已存在。"},
    "error.invalid-role": {"en": "Unknown role.", "zh-CN": "未知的角色。"},
    "error.csv-invalid": {
        "en": "The CSV file has problems (lines {detail}); nothing was imported.",
        "zh-CN": "CSV 文件有误(第 {detail} 行),未导入任何数据。",
    },
    # -- section: customer files and their CSV import --
    "error.too-long": {
        "en": "Too long: at most {detail} characters.",
        "zh-CN": "过长:最多 {detail} 个字符。",
    },
    "error.too-many": {"en": "Too many: at most {detail}.", "zh-CN": "数量过多:最多 {detail} 个。"},
    "error.invalid-field-name": {
        "en": "A registration field needs a name of 1 to 64 characters: {detail}",
        "zh-CN": "登记字段名须为 1 至 64 个字符:{detail}",
    },
    "error.phone-taken": {
        "en": "The number {detail} already belongs to another customer file.",
        "zh-CN": "号码 {detail} 已属于另一个客户档案。",
    },
    "error.phone-repeated": {
        "en": "The number {detail} is also on line {line} of this file.",
        "zh-CN": "号码 {detail} 在本文件第 {line} 行也出现了。",
    },
    "error.csv-quote": {
        "en": (
            "A quoted value starts on this line but its closing quote is missing or misplaced "
            "(only notes may span lines)."
        ),
        "zh-CN": "此行开始的带引号的值缺少结束引号或引号位置有误(只有备注可以跨行)。",
    },
    "error.csv-columns": {
        "en": "More values than the header has columns ({detail}).",
        "zh-CN": "值的个数多于表头列数({detail})。",
    },
    "error.csv-duplicate-column": {
        "en": "This column appears twice in the header.",
        "zh-CN": "表头中此列出现了两次。",
    },
    "error.csv-no-name": {
        "en": (
            "The first line must be the header, with a name column (name, phones, grade, notes, "
            "other fields)."
        ),
        "zh-CN": "第一行必须是表头,且包含 name 列(name、phones、grade、notes 及其他字段)。",
    },
    "error.csv-unnamed-column": {
        "en": "A value is in a column that has no name in the header.",
        "zh-CN": "有值位于表头中没有列名的列。",
    },
    "error.csv-not-text": {
        "en": (
            "This is not a CSV text file (an .xlsx workbook or UTF-16 “Unicode text”?). In the "
            "spreadsheet use Save as → “CSV UTF-8 (comma delimited)”."
        ),
        "zh-CN": (
            "这不是 CSV 文本文件(可能是 .xlsx 工作簿或 UTF-16“Unicode "
            "文本”)。请在表格软件中“另存为”→“CSV UTF-8(逗号分隔)”。"
        ),
    },
    "error.csv-bad-utf8": {
        "en": (
            "The file is UTF-8 but this line has a byte that is not ({detail}); retype the value "
            "or save the file as UTF-8 again."
        ),
        "zh-CN": (
            "文件为 UTF-8 编码,但此行有非 UTF-8 字节({detail});请重新输入该值或重新以 UTF-8 "
            "保存文件。"
        ),
    },
    "error.csv-encoding": {
        "en": (
            "The file is neither UTF-8 nor GB18030/GBK text. Save it as “CSV UTF-8”, or convert "
            "it, e.g. iconv -f BIG5 -t UTF-8 file.csv > file-utf8.csv (with the file's real "
            "encoding)."
        ),
        "zh-CN": (
            "文件既不是 UTF-8 也不是 GB18030/GBK 文本。请另存为“CSV UTF-8”,或转换编码,例如 iconv "
            "-f BIG5 -t UTF-8 file.csv > file-utf8.csv(使用文件实际的编码)。"
        ),
    },
    "error.file-unreadable": {
        "en": "Cannot read the file: {detail}",
        "zh-CN": "无法读取文件:{detail}",
    },
    "error.import-database": {
        "en": "The database refused the import; nothing was imported. {detail}",
        "zh-CN": "数据库拒绝了导入,未导入任何数据。{detail}",
    },
    "import.failed": {
        "en": "Nothing was imported: {n} problem(s) in the file.",
        "zh-CN": "未导入任何数据:文件中有 {n} 处问题。",
    },
    "import.problem_at": {
        "en": "line {line}, {column}: {message}",
        "zh-CN": "第 {line} 行,{column}:{message}",
    },
    "import.problem_line": {"en": "line {line}: {message}", "zh-CN": "第 {line} 行:{message}"},
    "import.more": {"en": "… and {n} more", "zh-CN": "……另有 {n} 处"},
    "import.done": {"en": "{n} customers imported.", "zh-CN": "已导入 {n} 位客户。"},
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
    "error.invalid-json": {
        "en": "The request body is not valid JSON (or is nested too deeply).",
        "zh-CN": "请求体不是有效的 JSON(或嵌套过深)。",
    },
    "error.too-large": {
        "en": "The request is too large (at most {detail}).",
        "zh-CN": "请求过大(最多 {detail})。",
    },
    "error.unsupported-media-type": {
        "en": "Unsupported content type; send {detail}.",
        "zh-CN": "不支持的内容类型,请使用 {detail}。",
    },
    "error.method-not-allowed": {
        "en": "This method is not allowed here.",
        "zh-CN": "不允许此请求方法。",
    },
    # Details of invalid-input, from the OpenAPI schema the request broke ({field} is its path).
    "invalid.type": {"en": "{field} has the wrong type", "zh-CN": "{field} 类型错误"},
    "invalid.maximum": {
        "en": "{field} must be at most {limit}",
        "zh-CN": "{field} 不能大于 {limit}",
    },
    "invalid.exclusiveMaximum": {
        "en": "{field} must be below {limit}",
        "zh-CN": "{field} 必须小于 {limit}",
    },
    "invalid.minimum": {
        "en": "{field} must be at least {limit}",
        "zh-CN": "{field} 不能小于 {limit}",
    },
    "invalid.exclusiveMinimum": {
        "en": "{field} must be above {limit}",
        "zh-CN": "{field} 必须大于 {limit}",
    },
    "invalid.maxLength": {
        "en": "{field} is longer than {limit} characters",
        "zh-CN": "{field} 超过 {limit} 个字符",
    },
    "invalid.minLength": {
        "en": "{field} needs at least {limit} characters",
        "zh-CN": "{field} 至少需要 {limit} 个字符",
    },
    "invalid.maxItems": {
        "en": "{field} has more than {limit} items",
        "zh-CN": "{field} 超过 {limit} 项",
    },
    "invalid.minItems": {
        "en": "{field} needs at least {limit} items",
        "zh-CN": "{field} 至少需要 {limit} 项",
    },
    "invalid.maxProperties": {
        "en": "{field} has more than {limit} entries",
        "zh-CN": "{field} 超过 {limit} 个条目",
    },
    "invalid.enum": {
        "en": "{field} is not one of the allowed values",
        "zh-CN": "{field} 不是允许的取值",
    },
    "invalid.required": {"en": "{field} is required", "zh-CN": "{field} 为必填项"},
    "invalid.additionalProperties": {
        "en": "{field} is not a known field",
        "zh-CN": "{field} 不是已知字段",
    },
    "invalid.pattern": {"en": "{field} has the wrong format", "zh-CN": "{field} 格式错误"},
    "invalid.format": {"en": "{field} has the wrong format", "zh-CN": "{field} 格式错误"},
    "invalid.other": {"en": "{field} is not accepted", "zh-CN": "{field} 不符合要求"},
    # -- section: rosters, templates, schedule, leave and swaps --
    "error.duplicate": {"en": "This already exists. {detail}", "zh-CN": "已存在。{detail}"},
    "error.roster-not-editable": {
        "en": "The roster cannot be changed now (status: {detail}).",
        "zh-CN": "当前无法修改该排班(状态:{detail})。",
    },
    "error.roster-no-templates": {
        "en": "No active shift templates: add one first.",
        "zh-CN": "没有启用的班次模板,请先添加。",
    },
    "error.roster-no-agents": {"en": "No active agents to roster.", "zh-CN": "没有可排班的坐席。"},
    "error.roster-no-forecast": {
        "en": "No forecast for these weeks: generate or import one first.",
        "zh-CN": "这几周没有话务预测,请先生成或导入。",
    },
    "error.roster-empty": {
        "en": "The roster has no shifts yet: solve it first.",
        "zh-CN": "排班中还没有班次,请先求解。",
    },
    "error.roster-violations": {
        "en": "{detail} hard-rule violations: fix them before publishing.",
        "zh-CN": "存在 {detail} 处硬性规则冲突,请先修正再发布。",
    },
    "error.roster-starts-in-past": {
        "en": (
            "The roster starts on {detail}, in the past: days already begun cannot be re-rostered. "
            "Create one from today."
        ),
        "zh-CN": "该排班从 {detail} 开始,已是过去:已开始的日期不能重新排班,请从今天起新建。",
    },
    "error.leave-overlap": {
        "en": "You already asked for leave on some of these days.",
        "zh-CN": "这些日期中已有休假申请。",
    },
    "error.request-decided": {
        "en": "This request is already {detail}.",
        "zh-CN": "该申请已处理(状态:{detail})。",
    },
    "error.swap-past": {
        "en": "Shifts in the past or already started cannot be swapped.",
        "zh-CN": "不能调换已过去或已开始的班次。",
    },
    "error.template-in-use": {
        "en": (
            "Shift {detail} is on a published roster: its times cannot change (they are its "
            "history). Add a new template instead."
        ),
        "zh-CN": "班次 {detail} 已用于已发布的排班,时间不能再改(否则会改写历史),请新建一个模板。",
    },
    "error.swap-no-shift": {
        "en": "No published shift on {detail} to swap.",
        "zh-CN": "{detail} 没有可调换的已发布班次。",
    },
    "error.swap-partner-busy": {
        "en": "Already working on {detail}: a swap cannot give two shifts in one day.",
        "zh-CN": "{detail} 已有班次,调班后不能一天两班。",
    },
    "error.swap-limit": {
        "en": "At most {detail} swaps a month.",
        "zh-CN": "每月最多调班 {detail} 次。",
    },
    "error.swap-violations": {
        "en": "Not approved: the swap would break {detail} hard rule(s).",
        "zh-CN": "未批准:调班后将违反 {detail} 条硬性规则。",
    },
    "nav.rosters": {"en": "Rosters", "zh-CN": "排班"},
    "nav.requests": {"en": "Leave & swaps", "zh-CN": "请假与调班"},
    "nav.my_schedule": {"en": "My schedule", "zh-CN": "我的排班"},
    "roster.title": {"en": "Rosters", "zh-CN": "排班表"},
    "roster.new": {"en": "New roster", "zh-CN": "新建排班"},
    "roster.start": {"en": "First day", "zh-CN": "开始日期"},
    "roster.weeks": {"en": "Weeks", "zh-CN": "周数"},
    "roster.time_limit": {"en": "Solver time limit (s)", "zh-CN": "求解时限(秒)"},
    "roster.name": {"en": "Name", "zh-CN": "名称"},
    "roster.create": {"en": "Create", "zh-CN": "创建"},
    "roster.status": {"en": "Status", "zh-CN": "状态"},
    "roster.status.draft": {"en": "Draft", "zh-CN": "草稿"},
    "roster.status.solving": {"en": "Solving…", "zh-CN": "求解中…"},
    "roster.status.solved": {"en": "Solved", "zh-CN": "已求解"},
    "roster.status.failed": {"en": "Failed", "zh-CN": "失败"},
    "roster.status.published": {"en": "Published", "zh-CN": "已发布"},
    "roster.open": {"en": "Open", "zh-CN": "打开"},
    "roster.empty": {"en": "No rosters yet.", "zh-CN": "还没有排班。"},
    "roster.solve": {"en": "Solve", "zh-CN": "求解"},
    "roster.cancel": {"en": "Stop", "zh-CN": "停止"},
    "roster.publish": {"en": "Publish", "zh-CN": "发布"},
    "roster.published": {
        "en": "Published: agents now see this roster.",
        "zh-CN": "已发布:坐席现在可以看到该排班。",
    },
    "roster.progress": {
        "en": "{elapsed} s of {limit} s · {solutions} rosters found · gap to bound {gap}%",
        "zh-CN": "{elapsed}/{limit} 秒 · 已找到 {solutions} 个方案 · 距下界 {gap}%",
    },
    "roster.result": {
        "en": (
            "Understaffed {under} of {required} agent-intervals · overstaffed {over} · gap to "
            "lower bound {gap}% · first roster in {first} s"
        ),
        "zh-CN": (
            "缺员 {under}/{required} 人·时段 · 超员 {over} · 距下界 {gap}% · 首个方案 {first} 秒"
        ),
    },
    "roster.agent": {"en": "Agent", "zh-CN": "坐席"},
    "roster.hours": {"en": "Hours", "zh-CN": "工时"},
    "roster.rest": {"en": "Rest", "zh-CN": "休息"},
    "roster.leave": {"en": "Leave", "zh-CN": "休假"},
    "roster.violations": {"en": "Hard-rule violations", "zh-CN": "硬性规则冲突"},
    "roster.no_violations": {"en": "Every hard rule is met.", "zh-CN": "满足全部硬性规则。"},
    "roster.understaffed": {"en": "Understaffed intervals and why", "zh-CN": "缺员时段及原因"},
    "roster.gaps": {
        "en": "Coverage gaps (shifts do not join end to end)",
        "zh-CN": "覆盖缺口(班次未首尾衔接)",
    },
    "roster.no_gaps": {"en": "Coverage is sealed.", "zh-CN": "覆盖无缺口。"},
    "roster.chart": {
        "en": "Required (line) vs scheduled (bars) agents per interval",
        "zh-CN": "各时段需求(线)与排班(柱)人数",
    },
    "roster.edit_hint": {
        "en": (
            "Choose a shift; the roster is re-checked against every rule at once. Keys: arrows "
            "move, a code letter picks, Delete clears, Ctrl+C / Ctrl+V copy a shift."
        ),
        "zh-CN": (
            "选择班次后立即按全部规则重新校验。键盘:方向键移动,输入班次字母选择,Delete 清空,Ctrl+C "
            "/ Ctrl+V 复制班次。"
        ),
    },
    "roster.copied": {
        "en": "Copied {code}: Ctrl+V pastes it into another cell.",
        "zh-CN": "已复制 {code}:在其他格子按 Ctrl+V 粘贴。",
    },
    "roster.duty.cleaning": {"en": "Cleaning", "zh-CN": "值日"},
    "roster.seat": {"en": "Seat {n}", "zh-CN": "座席 {n}"},
    "roster.agents": {"en": "Agents' contract terms", "zh-CN": "坐席排班条件"},
    "roster.flag.no-late": {"en": "No late shifts", "zh-CN": "不排晚班"},
    "roster.flag.no-weekend": {"en": "No weekends", "zh-CN": "不排周末"},
    "roster.unavailable": {"en": "Unavailable", "zh-CN": "不可排班时段"},
    "roster.remove": {"en": "Remove", "zh-CN": "删除"},
    "roster.policy": {
        "en": "Attendance score, escalation and weekly summary",
        "zh-CN": "考勤计分、违规处理与周报",
    },
    "policy.start_points": {"en": "Monthly points", "zh-CN": "每月基础分"},
    "policy.late_grace_min": {"en": "Late after (min)", "zh-CN": "迟到宽限(分钟)"},
    "policy.late_points": {"en": "Late −", "zh-CN": "迟到扣分"},
    "policy.absence_late_after_min": {
        "en": "Absent when late over (min)",
        "zh-CN": "迟到超过(分钟)按缺勤",
    },
    "policy.absence_late_points": {"en": "Late as absence −", "zh-CN": "迟到按缺勤扣分"},
    "policy.absence_points": {"en": "Absence without leave −", "zh-CN": "无故缺勤扣分"},
    "policy.logout_count": {"en": "Every n-th logout", "zh-CN": "每第 n 次离岗"},
    "policy.logout_points": {"en": "Logouts −", "zh-CN": "离岗扣分"},
    "policy.excess_swap_points": {"en": "Swap over the limit −", "zh-CN": "超额调班扣分"},
    "policy.warning_at": {"en": "Warning at ≤", "zh-CN": "警告线 ≤"},
    "policy.penalty_at": {"en": "Penalty at ≤", "zh-CN": "处罚线 ≤"},
    "policy.severe_months": {"en": "Severe after months at penalty", "zh-CN": "连续处罚月数→严重"},
    "policy.weekly_summary_min_chars": {
        "en": "Weekly summary: min characters",
        "zh-CN": "周报最少字数",
    },
    "policy.weekly_summary_due": {"en": "Weekly summary due", "zh-CN": "周报截止"},
    "policy.weekly_summary_remind_h": {
        "en": "Summary reminder, hours before",
        "zh-CN": "周报提前提醒(小时)",
    },
    "policy.handover_grace_min": {
        "en": "Handover missed after shift end (min)",
        "zh-CN": "下班后未交接计为缺失(分钟)",
    },
    "policy.handover_file_window_h": {
        "en": "Handover can be filed until (h after shift)",
        "zh-CN": "下班后可补交交接(小时)",
    },
    "policy.handover_takeover_early_min": {
        "en": "Take over from (min before shift)",
        "zh-CN": "班前可接班(分钟)",
    },
    "policy.escalation": {
        "en": "Consequence of the 1st, 2nd, … miss (one per line)",
        "zh-CN": "第 1、2…次违规的处理(每行一条)",
    },
    "policy.weekday.0": {"en": "Monday", "zh-CN": "周一"},
    "policy.weekday.1": {"en": "Tuesday", "zh-CN": "周二"},
    "policy.weekday.2": {"en": "Wednesday", "zh-CN": "周三"},
    "policy.weekday.3": {"en": "Thursday", "zh-CN": "周四"},
    "policy.weekday.4": {"en": "Friday", "zh-CN": "周五"},
    "policy.weekday.5": {"en": "Saturday", "zh-CN": "周六"},
    "policy.weekday.6": {"en": "Sunday", "zh-CN": "周日"},
    "sched.home": {"en": "From home", "zh-CN": "居家"},
    "sched.break": {"en": "Break {from}–{to}", "zh-CN": "休息 {from}–{to}"},
    "schedule.changed.published": {
        "en": "A new roster is published: see My schedule.",
        "zh-CN": "新排班已发布,请查看“我的排班”。",
    },
    "schedule.changed.swap-requested": {
        "en": "A colleague asks you to swap a shift ({day}).",
        "zh-CN": "同事请求与您调班({day})。",
    },
    "schedule.changed.swap-accepted": {
        "en": "Your swap for {day} was accepted and waits for approval.",
        "zh-CN": "您 {day} 的调班已获同事同意,等待审批。",
    },
    "schedule.changed.swap-declined": {
        "en": "Your colleague declined the swap for {day}.",
        "zh-CN": "同事拒绝了您 {day} 的调班。",
    },
    "schedule.changed.swap-approved": {
        "en": "The swap for {day} is approved: your schedule changed.",
        "zh-CN": "{day} 的调班已批准,您的排班已更新。",
    },
    "schedule.changed.swap-refused": {
        "en": "The swap for {day} was refused.",
        "zh-CN": "{day} 的调班已被驳回。",
    },
    "schedule.changed.swap-cancelled": {
        "en": "The swap request for {day} was withdrawn.",
        "zh-CN": "{day} 的调班申请已撤回。",
    },
    "sched.withdraw": {"en": "Withdraw", "zh-CN": "撤回"},
    "schedule.changed.leave-approved": {
        "en": "Your leave from {day} is approved.",
        "zh-CN": "您自 {day} 起的休假已批准。",
    },
    "schedule.changed.leave-refused": {
        "en": "Your leave from {day} was refused.",
        "zh-CN": "您自 {day} 起的休假已被驳回。",
    },
    "roster.break_at": {"en": "break {at}", "zh-CN": "{at} 休息"},
    "roster.templates": {"en": "Shift templates", "zh-CN": "班次模板"},
    "roster.rules": {"en": "Rules", "zh-CN": "规则"},
    "roster.save": {"en": "Save", "zh-CN": "保存"},
    "roster.saved": {"en": "Saved.", "zh-CN": "已保存。"},
    "roster.add_template": {"en": "Add template", "zh-CN": "添加模板"},
    "tpl.code": {"en": "Code", "zh-CN": "代码"},
    "tpl.name": {"en": "Name", "zh-CN": "名称"},
    "tpl.start": {"en": "Start", "zh-CN": "开始"},
    "tpl.end": {"en": "End", "zh-CN": "结束"},
    "tpl.break_min": {"en": "Break (min)", "zh-CN": "休息(分钟)"},
    "tpl.break_paid": {"en": "Paid break", "zh-CN": "带薪休息"},
    "tpl.on_site": {"en": "On site", "zh-CN": "在岗"},
    "tpl.late": {"en": "Late", "zh-CN": "晚班"},
    "tpl.skills": {"en": "Skills", "zh-CN": "技能"},
    "tpl.active": {"en": "Active", "zh-CN": "启用"},
    "tpl.hours": {"en": "Paid h", "zh-CN": "计薪小时"},
    "rule.seats": {"en": "Seats", "zh-CN": "座席数"},
    "rule.max_hours_week": {"en": "Max hours / week", "zh-CN": "每周工时上限"},
    "rule.min_rest_h": {"en": "Min rest between shifts (h)", "zh-CN": "班次间最少休息(小时)"},
    "rule.max_consecutive_days": {"en": "Max consecutive days", "zh-CN": "最多连续工作天数"},
    "rule.min_rest_days_per_month": {"en": "Rest days / month", "zh-CN": "每月休息天数"},
    "rule.max_late_shifts_per_week": {"en": "Max late shifts / week", "zh-CN": "每周晚班上限"},
    "rule.holiday_reinforcement": {"en": "Holiday reinforcement ×", "zh-CN": "节假日加强系数"},
    "rule.cleaning_template": {"en": "Cleaning rota with shift", "zh-CN": "值日随班次"},
    "rule.open_from": {"en": "Open from", "zh-CN": "营业开始"},
    "rule.open_to": {"en": "Open to", "zh-CN": "营业结束"},
    "rule.max_swaps_month": {"en": "Max swaps / month", "zh-CN": "每月调班上限"},
    "rule.break_edge_min": {
        "en": "No break in first/last (min)",
        "zh-CN": "班首班尾不安排休息(分钟)",
    },
    "sched.title": {"en": "My schedule", "zh-CN": "我的排班"},
    "sched.empty": {
        "en": "No published shifts in this period.",
        "zh-CN": "此期间没有已发布的班次。",
    },
    "sched.ical": {"en": "Export to calendar (iCal)", "zh-CN": "导出到日历(iCal)"},
    "sched.swaps_used": {
        "en": "Swaps this month: {n} of {max}",
        "zh-CN": "本月已调班 {n}/{max} 次",
    },
    "sched.swap": {"en": "Swap…", "zh-CN": "调班…"},
    "sched.swap_with": {"en": "Colleague", "zh-CN": "同事"},
    "sched.swap_their_day": {
        "en": "Take their shift on (optional)",
        "zh-CN": "换取对方班次日期(可选)",
    },
    "sched.reason": {"en": "Reason", "zh-CN": "原因"},
    "sched.send": {"en": "Send request", "zh-CN": "提交申请"},
    "sched.sent": {"en": "Request sent.", "zh-CN": "申请已提交。"},
    "sched.leave": {"en": "Request leave", "zh-CN": "申请休假"},
    "sched.first_day": {"en": "From", "zh-CN": "开始"},
    "sched.last_day": {"en": "To", "zh-CN": "结束"},
    "sched.kind": {"en": "Kind", "zh-CN": "类型"},
    "sched.kind.annual": {"en": "Annual leave", "zh-CN": "年假"},
    "sched.kind.sick": {"en": "Sick leave", "zh-CN": "病假"},
    "sched.kind.personal": {"en": "Personal leave", "zh-CN": "事假"},
    "sched.kind.other": {"en": "Other", "zh-CN": "其他"},
    "sched.my_requests": {"en": "My requests", "zh-CN": "我的申请"},
    "sched.incoming": {"en": "Swap requests for me", "zh-CN": "请我调班的申请"},
    "sched.accept": {"en": "Accept", "zh-CN": "同意"},
    "sched.decline": {"en": "Decline", "zh-CN": "拒绝"},
    "req.title": {"en": "Leave and swap requests", "zh-CN": "请假与调班审批"},
    "req.leave": {"en": "Leave", "zh-CN": "休假"},
    "req.swaps": {"en": "Swaps", "zh-CN": "调班"},
    "req.approve": {"en": "Approve", "zh-CN": "批准"},
    "req.refuse": {"en": "Refuse", "zh-CN": "驳回"},
    "req.none": {"en": "Nothing waiting.", "zh-CN": "没有待处理的申请。"},
    "req.status.pending": {"en": "Waiting for colleague", "zh-CN": "待同事确认"},
    "req.status.accepted": {"en": "Waiting for approval", "zh-CN": "待审批"},
    "req.status.approved": {"en": "Approved", "zh-CN": "已批准"},
    "req.status.refused": {"en": "Refused", "zh-CN": "已驳回"},
    "req.status.declined": {"en": "Declined by colleague", "zh-CN": "同事已拒绝"},
    "req.status.cancelled": {"en": "Cancelled", "zh-CN": "已取消"},
    # -- section: attendance (clock-in/out, adherence, ledger) --
    "nav.attendance": {"en": "Attendance", "zh-CN": "考勤"},
    "error.already-clocked-in": {
        "en": "You are already clocked in (since {detail}).",
        "zh-CN": "您已打卡上班(自 {detail} 起)。",
    },
    "error.relief-not-arrived": {
        "en": (
            "Your relief has not clocked in yet: {detail}. Wait for the handover, or clock out "
            "anyway (your supervisor sees it)."
        ),
        "zh-CN": "接班人尚未打卡:{detail}。请等待交接,或仍然下班打卡(主管可见)。",
    },
    "clock.out_anyway": {"en": "Clock out anyway", "zh-CN": "仍然下班打卡"},
    "att.without_relief": {"en": "Left before the relief arrived", "zh-CN": "接班人未到即离岗"},
    "att.export_csv": {"en": "Export CSV", "zh-CN": "导出 CSV"},
    "error.not-clocked-in": {"en": "You are not clocked in.", "zh-CN": "您尚未打卡上班。"},
    "clock.title": {"en": "Time clock", "zh-CN": "考勤打卡"},
    "clock.in": {"en": "Clock in", "zh-CN": "上班打卡"},
    "clock.out": {"en": "Clock out", "zh-CN": "下班打卡"},
    "clock.clocked_in": {"en": "Clocked in since {time}", "zh-CN": "已于 {time} 上班打卡"},
    "clock.clocked_out": {"en": "Not clocked in", "zh-CN": "未打卡上班"},
    "clock.done_in": {"en": "Clocked in at {time}.", "zh-CN": "已于 {time} 上班打卡。"},
    "clock.done_out": {"en": "Clocked out at {time}.", "zh-CN": "已于 {time} 下班打卡。"},
    "clock.shift_now": {
        "en": "Shift now: {code} {from}–{to}",
        "zh-CN": "当前班次:{code} {from}–{to}",
    },
    "clock.shift_today": {
        "en": "Today: {code} {from}–{to}",
        "zh-CN": "今日班次:{code} {from}–{to}",
    },
    "clock.shift_next": {
        "en": "Next shift: {code} {day} {from}–{to}",
        "zh-CN": "下一班次:{code} {day} {from}–{to}",
    },
    "clock.break": {"en": "break {from}–{to}", "zh-CN": "休息 {from}–{to}"},
    "clock.no_shift": {"en": "No shift scheduled.", "zh-CN": "暂无排班。"},
    "clock.score": {
        "en": "Attendance score this month: {score} / {max}",
        "zh-CN": "本月考勤分:{score} / {max}",
    },
    "att.title": {"en": "Attendance and adherence", "zh-CN": "考勤与排班遵从"},
    "att.now": {"en": "Real-time adherence", "zh-CN": "实时遵从"},
    "att.history": {"en": "Adherence per shift", "zh-CN": "各班次遵从情况"},
    "att.ledger": {"en": "Monthly attendance score", "zh-CN": "月度考勤积分"},
    "att.refresh": {"en": "Refresh", "zh-CN": "刷新"},
    "att.show": {"en": "Show", "zh-CN": "查询"},
    "att.from": {"en": "From", "zh-CN": "开始日期"},
    "att.to": {"en": "To", "zh-CN": "结束日期"},
    "att.month": {"en": "Month", "zh-CN": "月份"},
    "att.agent": {"en": "Agent", "zh-CN": "坐席"},
    "att.shift": {"en": "Shift", "zh-CN": "班次"},
    "att.day": {"en": "Day", "zh-CN": "日期"},
    "att.clock": {"en": "Clock", "zh-CN": "打卡"},
    "att.state": {"en": "Desk state", "zh-CN": "坐席状态"},
    "att.adherence": {"en": "Adherence", "zh-CN": "遵从"},
    "att.scheduled_min": {"en": "Scheduled (min)", "zh-CN": "排班(分钟)"},
    "att.logged_in_min": {"en": "Logged in (min)", "zh-CN": "在线(分钟)"},
    "att.adherence_pct": {"en": "Adherence %", "zh-CN": "遵从率 %"},
    "att.clock_in": {"en": "Clock-in", "zh-CN": "上班打卡"},
    "att.clock_out": {"en": "Clock-out", "zh-CN": "下班打卡"},
    "att.late_min": {"en": "Late (min)", "zh-CN": "迟到(分钟)"},
    "att.early_min": {"en": "Early leave (min)", "zh-CN": "早退(分钟)"},
    "att.logouts": {"en": "Logouts", "zh-CN": "登出次数"},
    "att.absent": {"en": "Absent", "zh-CN": "缺勤"},
    "att.on_leave": {"en": "On leave", "zh-CN": "休假"},
    "att.totals": {
        "en": "{shifts} shifts, adherence {pct}%, {late} late, {absent} absent, {logouts} logouts",
        "zh-CN": (
            "共 {shifts} 个班次,遵从率 {pct}%,迟到 {late} 次,缺勤 {absent} 次,登出 {logouts} 次"
        ),
    },
    "att.summary_now": {
        "en": "{scheduled} scheduled now, {out} out of adherence",
        "zh-CN": "当前排班 {scheduled} 人,{out} 人未遵从",
    },
    "att.yes": {"en": "Yes", "zh-CN": "是"},
    "att.no": {"en": "No", "zh-CN": "否"},
    "att.not_clocked": {"en": "Not clocked in", "zh-CN": "未打卡"},
    "att.clocked_since": {"en": "In since {time}", "zh-CN": "{time} 起已打卡"},
    "att.off_shift": {"en": "Not scheduled", "zh-CN": "非排班时间"},
    "att.reason.ok": {"en": "In adherence", "zh-CN": "遵从"},
    "att.reason.off": {"en": "Off shift", "zh-CN": "不在班"},
    "att.reason.absent": {"en": "Scheduled, not here", "zh-CN": "当班未到岗"},
    "att.reason.not-clocked-in": {"en": "Scheduled, not clocked in", "zh-CN": "当班未打卡"},
    "att.reason.not-logged-in": {
        "en": "Clocked in, logged out of the desk",
        "zh-CN": "已打卡但未登录坐席",
    },
    "att.reason.unscheduled-login": {"en": "Logged in off shift", "zh-CN": "非排班时间在线"},
    "att.score": {"en": "Score", "zh-CN": "积分"},
    "att.level": {"en": "Level", "zh-CN": "级别"},
    "att.level.none": {"en": "Good standing", "zh-CN": "正常"},
    "att.level.warning": {"en": "Verbal warning", "zh-CN": "口头警告"},
    "att.level.penalty": {"en": "Penalty", "zh-CN": "处罚"},
    "att.level.severe": {"en": "Severe penalty", "zh-CN": "严重处罚"},
    "att.previous": {"en": "Earlier months", "zh-CN": "前几月"},
    "att.late_count": {"en": "Late", "zh-CN": "迟到"},
    "att.absences": {"en": "Absences", "zh-CN": "缺勤"},
    "att.leave_days": {"en": "Leave days", "zh-CN": "休假天数"},
    "att.swaps": {"en": "Swaps", "zh-CN": "调休"},
    "att.entries": {"en": "Deductions", "zh-CN": "扣分明细"},
    "att.no_entries": {"en": "No deductions.", "zh-CN": "无扣分。"},
    "att.empty": {"en": "Nothing to show.", "zh-CN": "暂无数据。"},
    "att.rules": {
        "en": (
            "Start {start}; late −{late}; over {after} min late −{absence_late}; absence "
            "−{absence}; every {logout_count} logouts −{logouts}; swaps over {max_swaps} −{swap} "
            "each; warning ≤ {warning}, penalty ≤ {penalty}."
        ),
        "zh-CN": (
            "初始 {start} 分;迟到 −{late};迟到超过 {after} 分钟 −{absence_late};缺勤 "
            "−{absence};每登出 {logout_count} 次 −{logouts};调休超过 {max_swaps} 次每次 −{swap};≤ "
            "{warning} 警告,≤ {penalty} 处罚。"
        ),
    },
    # -- section: handover log, weekly summary, escalation --
    "error.handover-no-shift": {
        "en": (
            "You have no published shift running or just ended, so there is no shift to hand over."
        ),
        "zh-CN": "您当前没有正在进行或刚结束的排班,无法提交交接记录。",
    },
    "error.handover-already-filed": {
        "en": "The handover for this shift ({detail}) is already filed.",
        "zh-CN": "该班次({detail})的交接记录已提交。",
    },
    "error.handover-item-empty": {
        "en": "Open item {detail} has no text: describe it or remove the row.",
        "zh-CN": "第 {detail} 条未结事项没有内容:请填写或删除该行。",
    },
    "error.handover-not-on-duty": {
        "en": (
            "Only the incoming shift takes over a handover: you have no shift now or within the "
            "hour."
        ),
        "zh-CN": "只有接班人员可以接收交接:您现在或一小时内没有班次。",
    },
    "error.handover-own-entry": {
        "en": "You cannot acknowledge your own handover; the incoming shift takes it over.",
        "zh-CN": "不能确认自己的交接记录,应由接班人员确认。",
    },
    "error.handover-already-acknowledged": {
        "en": "This handover was already acknowledged by {detail}.",
        "zh-CN": "该交接记录已由 {detail} 确认。",
    },
    "error.miss-unknown-call": {
        "en": "No call with id {detail}.",
        "zh-CN": "未找到通话编号 {detail}。",
    },
    "error.miss-exists": {
        "en": "A complaint for call {detail} is already counted against this agent.",
        "zh-CN": "该坐席的通话 {detail} 投诉已记录。",
    },
    "error.weekly-summary-week": {
        "en": "Summaries can be filed for this week and the four weeks before, not for {detail}.",
        "zh-CN": "只能提交本周及前四周的总结,不能提交 {detail} 这一周。",
    },
    "error.weekly-summary-incomplete": {
        "en": "Fill in both parts: what went well and what to improve.",
        "zh-CN": "请填写两部分:做得好的和需要改进的。",
    },
    "error.weekly-summary-too-short": {
        "en": "The summary is too short ({detail} characters).",
        "zh-CN": "总结字数不足({detail} 字)。",
    },
    "error.weekly-summary-exists": {
        "en": "Your summary for the week of {detail} is already filed.",
        "zh-CN": "您 {detail} 这一周的总结已提交。",
    },
    "nav.handover": {"en": "Handover", "zh-CN": "交接班"},
    "nav.handover_log": {"en": "Handover & misses", "zh-CN": "交接与违规"},
    "handover.title": {"en": "Handover and weekly summary", "zh-CN": "交接班与周总结"},
    "handover.log_title": {"en": "Handover log and misses", "zh-CN": "交接记录与违规统计"},
    "handover.my_shift": {"en": "My shift", "zh-CN": "我的班次"},
    "handover.no_shift": {
        "en": "No published shift is running or just ended: nothing to hand over now.",
        "zh-CN": "当前没有正在进行或刚结束的排班,暂无需交接。",
    },
    "handover.shift": {
        "en": "{day} shift {code}, {start}–{end}",
        "zh-CN": "{day} {code} 班,{start}–{end}",
    },
    "handover.file_title": {"en": "Hand over to the next shift", "zh-CN": "交给下一班"},
    "handover.item": {"en": "Open item", "zh-CN": "未结事项"},
    "handover.item_ref": {"en": "Customer / call ref.", "zh-CN": "客户/通话编号"},
    "handover.add_item": {"en": "Add item", "zh-CN": "添加事项"},
    "handover.remove_item": {"en": "Remove", "zh-CN": "删除"},
    "handover.notes": {
        "en": "Notes (keys, items, undelivered mail…)",
        "zh-CN": "备注(钥匙、物品、未送达邮件等)",
    },
    "handover.submit": {"en": "File handover", "zh-CN": "提交交接"},
    "handover.submit_hint": {"en": "Ctrl+Enter files it", "zh-CN": "Ctrl+Enter 提交"},
    "handover.nothing_open": {"en": "No open items.", "zh-CN": "无未结事项。"},
    "handover.filed": {"en": "Handover filed at {at}.", "zh-CN": "交接已于 {at} 提交。"},
    "handover.filed_ok": {"en": "Handover filed.", "zh-CN": "交接已提交。"},
    "handover.incoming": {"en": "Incoming handovers to take over", "zh-CN": "待接收的交接"},
    "handover.incoming_none": {
        "en": "Nothing waiting to be taken over.",
        "zh-CN": "没有待接收的交接。",
    },
    "handover.from": {
        "en": "From {name}, {day} shift {code}, filed {at}",
        "zh-CN": "{name},{day} {code} 班,提交于 {at}",
    },
    "handover.acknowledge": {"en": "Take over", "zh-CN": "确认接收"},
    "handover.acknowledged": {
        "en": "Taken over by {name} at {at}",
        "zh-CN": "{name} 于 {at} 确认接收",
    },
    "handover.acknowledged_ok": {"en": "Taken over.", "zh-CN": "已确认接收。"},
    "handover.taken_over": {"en": "Taken over by me", "zh-CN": "我已接收的"},
    "handover.ref": {"en": "Ref.", "zh-CN": "编号"},
    "handover.days": {"en": "Days", "zh-CN": "天数"},
    "handover.refresh": {"en": "Refresh", "zh-CN": "刷新"},
    "handover.col_shift": {"en": "Shift", "zh-CN": "班次"},
    "handover.col_agent": {"en": "Agent", "zh-CN": "坐席"},
    "handover.col_status": {"en": "Status", "zh-CN": "状态"},
    "handover.col_items": {"en": "Open items", "zh-CN": "未结事项"},
    "handover.col_ack": {"en": "Acknowledged", "zh-CN": "接收确认"},
    "handover.status.filed": {"en": "Filed", "zh-CN": "已提交"},
    "handover.status.filed-late": {
        "en": "Filed late (miss counted)",
        "zh-CN": "逾期提交(已计违规)",
    },
    "handover.status.missing": {"en": "Missing", "zh-CN": "未提交"},
    "handover.status.due": {"en": "Due", "zh-CN": "待提交"},
    "handover.status.running": {"en": "Running", "zh-CN": "进行中"},
    "handover.status.upcoming": {"en": "Upcoming", "zh-CN": "未开始"},
    "handover.not_acknowledged": {"en": "Not yet", "zh-CN": "尚未接收"},
    "handover.log_empty": {
        "en": "No published shifts in these days.",
        "zh-CN": "这几天没有已发布的排班。",
    },
    "weekly.title": {"en": "Weekly work summary", "zh-CN": "每周工作总结"},
    "weekly.due": {"en": "Week of {week}; due {due}.", "zh-CN": "{week} 这一周;截止 {due}。"},
    "weekly.went_well": {"en": "What went well", "zh-CN": "做得好的"},
    "weekly.to_improve": {"en": "What to improve", "zh-CN": "需要改进的"},
    "weekly.count": {"en": "{n} / {min} characters", "zh-CN": "{n} / {min} 字"},
    "weekly.submit": {"en": "Hand in summary", "zh-CN": "提交总结"},
    "weekly.submitted": {"en": "Handed in at {at}.", "zh-CN": "已于 {at} 提交。"},
    "weekly.submitted_ok": {"en": "Summary handed in.", "zh-CN": "总结已提交。"},
    "weekly.late": {"en": "late", "zh-CN": "迟交"},
    "weekly.due_soon": {
        "en": "Your weekly summary is due at {due}: hand it in now.",
        "zh-CN": "每周总结将于 {due} 截止,请尽快提交。",
    },
    "weekly.overdue": {
        "en": "The deadline has passed: a summary handed in now is marked late.",
        "zh-CN": "已过截止时间:现在提交将记为迟交。",
    },
    "weekly.last_week_missing": {
        "en": "Last week's summary is missing (you may still hand it in, marked late).",
        "zh-CN": "上周总结未提交(仍可补交,记为迟交)。",
    },
    "weekly.for_last_week": {"en": "For last week", "zh-CN": "补交上周"},
    "weekly.reminder": {
        "en": "Reminder: hand in your weekly summary by {due}.",
        "zh-CN": "提醒:请在 {due} 前提交每周工作总结。",
    },
    "misses.title": {"en": "Misses and escalation", "zh-CN": "违规次数与处理等级"},
    "misses.period": {"en": "Month", "zh-CN": "月份"},
    "misses.none": {"en": "No misses this month.", "zh-CN": "本月无违规记录。"},
    "misses.kind.handover": {"en": "Handover not filed", "zh-CN": "未交接"},
    "misses.kind.weekly-summary": {"en": "Weekly summary missing", "zh-CN": "周总结未交"},
    "misses.kind.complaint": {"en": "Customer complaint", "zh-CN": "客户投诉"},
    "misses.level": {"en": "{n}. time: {consequence}", "zh-CN": "第 {n} 次:{consequence}"},
    "misses.ref": {"en": "Ref.", "zh-CN": "编号"},
    "misses.complaint_title": {"en": "Record a complaint", "zh-CN": "登记投诉"},
    "misses.agent": {"en": "Agent", "zh-CN": "坐席"},
    "misses.call_id": {"en": "Call id", "zh-CN": "通话编号"},
    "misses.record": {"en": "Record complaint", "zh-CN": "登记投诉"},
    "misses.recorded_ok": {"en": "Complaint recorded.", "zh-CN": "投诉已登记。"},
    "misses.kind": {"en": "Kind", "zh-CN": "类型"},
    "misses.consequence": {"en": "Consequence", "zh-CN": "处理"},
    "misses.mine": {"en": "My misses this month", "zh-CN": "我本月的违规记录"},
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
        return translate(f"error.{self.error_id}", language, detail=self.detail).strip()

    def as_dict(self, language: str) -> dict[str, str]:
        """The wire shape of the error."""
        return {"error": self.error_id, "message": self.message(language)}
