from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from console.cli import main
from console.core.errors import DomainError
from console.core.models import Customer, CustomerPhone, User
from console.customers import services as customers
from console.customers.services import (
    FIELD_VALUE_MAX,
    NAME_MAX,
    NOTES_MAX,
    CustomerImportError,
    import_csv,
)
from console.node import Hotline, build, web_app
from console.web import errors as web_errors
from tests.helpers import csrf, login, make_settings, wait_until

ZHANG_WEI = "+8613800138000"  # a demo customer's number


def _count(hl: Hotline) -> int:
    with hl.sessions() as s:
        return int(s.scalar(select(func.count(Customer.id))) or 0)


def _refused(hl: Hotline, content: str | bytes) -> CustomerImportError:
    before = _count(hl)
    with pytest.raises(CustomerImportError) as err, hl.sessions.begin() as s:
        import_csv(s, content)
    assert _count(hl) == before  # nothing was written
    return err.value


def _where(err: CustomerImportError) -> list[tuple[int, str, str]]:
    return [(p.line, p.column, p.error_id) for p in err.problems]


def test_an_unclosed_quote_is_an_error_naming_its_line_and_later_lines_are_still_checked(
    hotline: Hotline,
) -> None:
    content = (
        "name,phones,grade,notes\n"
        "周杰,13500001111,A,ok\n"
        '吴敏,"13500002222,B,no closing quote\n'
        "郑强,13500003333,C,would have been swallowed\n"
        "钱多,13500004444,Q,bad grade\n"
    )
    err = _refused(hotline, content)
    assert _where(err) == [(3, "", "csv-quote"), (5, "grade", "invalid-grade")]
    assert "line 3: A quoted value starts on this line" in web_errors.message(err, "en")
    assert "第 3 行:此行开始的带引号的值缺少结束引号" in web_errors.message(err, "zh-CN")
    assert "第 5 行,等级:等级必须是 A、B、C 或 D。" in web_errors.message(err, "zh-CN")


def test_a_quote_that_closes_on_a_later_line_outside_notes_is_refused(hotline: Hotline) -> None:
    content = 'name,phones,grade\n吴敏,"13500002222,B\n郑强,13500003333,C"\n钱多,13500004444,A\n'
    # Line 3 read on its own has its own fault: the stray quote makes its grade `C"`.
    assert _where(_refused(hotline, content)) == [
        (2, "", "csv-quote"),
        (3, "grade", "invalid-grade"),
    ]
    content = 'name,phones,grade\n"吴敏,13500002222,B\n郑强,13500003333,C\n'
    assert _where(_refused(hotline, content)) == [(2, "", "csv-quote")]


def test_quoted_notes_may_span_lines(hotline: Hotline) -> None:
    content = (
        "name,phones,grade,notes\n"
        '吴敏,13500002222,B,"first line\nsecond, with a comma"\n'
        "郑强,13500003333,C,\n"
    )
    with hotline.sessions.begin() as s:
        assert import_csv(s, content) == 2
    with hotline.sessions() as s:
        found = customers.find_by_number(s, "+8613500002222")
        assert found[0].notes == "first line\nsecond, with a comma"


def test_a_gb18030_file_imports_correctly(hotline: Hotline) -> None:
    content = (
        "name,phones,grade,地址\n张小𠮷,13600001111,A,北京市东城区\n欧阳娜娜,13600002222,B,上海\n"
    )
    data = content.encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the case: a spreadsheet saved as GBK/GB18030
    with hotline.sessions.begin() as s:
        assert import_csv(s, data) == 2
    with hotline.sessions() as s:
        c = customers.find_by_number(s, "+8613600001111")[0]
        assert (c.name, c.fields) == ("张小𠮷", {"地址": "北京市东城区"})


def test_utf8_with_or_without_bom_imports(hotline: Hotline) -> None:
    content = "name,phones,grade\n李雷,13600003333,A\n"
    with hotline.sessions.begin() as s:
        assert import_csv(s, b"\xef\xbb\xbf" + content.encode()) == 1
    with hotline.sessions.begin() as s:
        assert import_csv(s, "name,phones\n韩梅梅,13600004444\n".encode()) == 1


def test_files_that_are_not_readable_text_are_refused_with_how_to_fix_it(hotline: Hotline) -> None:
    broken_utf8 = "name,phones\n李雷,13600005555\n".encode() + b"\xe9\x9f,13600006666\n"
    err = _refused(hotline, broken_utf8)
    assert _where(err) == [(3, "", "csv-bad-utf8")]
    assert "0xE9" in web_errors.message(err, "en")
    err = _refused(hotline, b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00")  # an .xlsx
    assert _where(err) == [(1, "", "csv-not-text")] and "CSV UTF-8" in web_errors.message(err, "en")
    err = _refused(hotline, "name,phones\nA,1\n".encode("utf-16"))
    assert _where(err) == [(1, "", "csv-not-text")]
    err = _refused(hotline, b"name,phones\nA,1\n\x81\x20,2\n")
    assert _where(err) == [(3, "", "csv-encoding")] and "iconv" in web_errors.message(err, "zh-CN")


def test_a_number_owned_by_another_customer_or_repeated_in_the_file_is_refused(
    hotline: Hotline,
) -> None:
    content = (
        "name,phones,grade\n"
        "新客户,138 0013 8000,A\n"  # 张伟's number, written another way
        "甲,13700003131;13700002222,B\n"
        "乙,0137-0000-2222,C\n"  # not the same text, the same number as line 3
    )
    err = _refused(hotline, content)
    assert _where(err) == [(2, "phones", "phone-taken"), (4, "phones", "phone-repeated")]
    assert "The number +8613700002222 is also on line 3 of this file." in web_errors.message(
        err, "en"
    )
    assert f"第 2 行,电话:号码 {ZHANG_WEI} 已属于另一个客户档案。" in web_errors.message(
        err, "zh-CN"
    )


def test_field_lengths_are_limited(hotline: Hotline) -> None:
    long_name = "名" * (NAME_MAX + 1)
    content = (
        "name,phones,grade,notes,address\n"
        f"{long_name},13700003333,A,,\n"
        f"乙,13700004444,A,{'n' * (NOTES_MAX + 1)},\n"
        f"丙,13700005555,A,,{'a' * (FIELD_VALUE_MAX + 1)}\n"
        f"丁,13700006666,A,{'n' * NOTES_MAX},{'a' * FIELD_VALUE_MAX}\n"
        "戊,13700007777,A,,,extra value\n"
    )
    err = _refused(hotline, content)
    assert _where(err) == [
        (2, "name", "too-long"),
        (3, "notes", "too-long"),
        (4, "address", "too-long"),
        (6, "", "csv-columns"),
    ]
    assert "line 2, Name: Too long: at most 128 characters." in web_errors.message(err, "en")
    assert "line 4, address: Too long: at most 1000 characters." in web_errors.message(err, "en")


def test_a_bad_header_is_refused(hotline: Hotline) -> None:
    assert _where(_refused(hotline, "phones,grade\n13700008888,A\n")) == [(1, "", "csv-no-name")]
    assert _where(_refused(hotline, "name,Phone,phones\n甲,1,2\n")) == [
        (1, "phones", "csv-duplicate-column")
    ]
    assert _where(_refused(hotline, "")) == [(1, "", "csv-no-name")]
    assert _where(_refused(hotline, 'name,"phones\n甲,1\n')) == [(1, "", "csv-quote")]


def test_the_service_refuses_a_number_another_customer_owns(hotline: Hotline) -> None:
    with hotline.sessions.begin() as s:
        with pytest.raises(DomainError) as err:
            customers.create_customer(s, None, {"name": "冒名", "phones": ["13800138000"]})
        assert (err.value.error_id, web_errors.status(err.value), err.value.detail) == (
            "phone-taken",
            409,
            ZHANG_WEI,
        )
        other = customers.create_customer(s, None, {"name": "甲", "phones": ["13700009999"]})
        user = s.scalar(select(User).where(User.username == "admin"))
        assert user is not None
        with pytest.raises(DomainError) as err:
            customers.update_customer(s, user, other.id, {"phones": ["13700009999", "13800138000"]})
        assert err.value.error_id == "phone-taken"
        # Its own numbers are no obstacle to editing it.
        customers.update_customer(
            s, user, other.id, {"notes": "still mine", "phones": ["13700009999"]}
        )


def test_a_file_whose_number_older_data_already_shares_can_still_be_edited(
    hotline: Hotline,
) -> None:
    with hotline.sessions.begin() as s:
        twin = customers.create_customer(s, None, {"name": "旧档案"})
        s.add(CustomerPhone(customer_id=twin.id, number=ZHANG_WEI))  # as stored before the rule
        twin_id = twin.id
    with hotline.sessions.begin() as s:
        user = s.scalar(select(User).where(User.username == "admin"))
        assert user is not None
        c = customers.update_customer(s, user, twin_id, {"grade": "B"})
        assert [p.number for p in c.phones] == [ZHANG_WEI]


@pytest.fixture
def app(hotline: Hotline) -> Iterator[Flask]:
    app, _ = web_app(hotline)
    app.config["TESTING"] = True
    yield app


def test_the_api_answers_409_for_a_number_another_customer_owns(
    app: Flask, hotline: Hotline
) -> None:
    c = login(app.test_client(), "agent1")
    token = csrf(c, "/agent")
    headers = {"X-CSRFToken": token}  # agent1 reads zh-CN
    r = c.post(
        "/api/v1/customers", json={"name": "Copy", "phones": ["138 0013 8000"]}, headers=headers
    )
    assert r.status_code == 409
    assert r.get_json() == {
        "error": "phone-taken",
        "message": "号码 +8613800138000 已属于另一个客户档案。",
    }
    r = c.post(
        "/api/v1/customers", json={"name": "Own", "phones": ["13700001212"]}, headers=headers
    )
    assert r.status_code == 201
    cid = r.get_json()["id"]
    r = c.put(
        f"/api/v1/customers/{cid}", json={"phones": ["13700001212", "13800138000"]}, headers=headers
    )
    assert r.status_code == 409 and r.get_json()["error"] == "phone-taken"
    with hotline.sessions() as s:
        assert [c.name for c in customers.find_by_number(s, ZHANG_WEI)] == ["张伟"]


def test_two_writers_cannot_both_claim_a_free_number_on_postgresql(
    tmp_path: Path, pg_url: str
) -> None:
    hl = build(make_settings(tmp_path, pg_url))
    try:
        first = hl.sessions()
        first.begin()
        customers.create_customer(first, None, {"name": "先", "phones": ["13911112222"]})
        outcome: list[str] = []

        def second() -> None:
            try:
                with hl.sessions.begin() as s:
                    customers.create_customer(s, None, {"name": "后", "phones": ["13911112222"]})
                outcome.append("stored")
            except DomainError as err:
                outcome.append(err.error_id)

        t = threading.Thread(target=second)
        t.start()
        # Wait until the second writer waits for the first one's claim, then commit the first.
        with hl.engine.connect() as watch:
            wait_until(
                lambda: watch.execute(
                    text(
                        "select count(*) from pg_locks where locktype = 'advisory' and not granted"
                    )
                ).scalar()
            )
        first.commit()
        first.close()
        t.join(timeout=10)
        assert outcome == ["phone-taken"]
    finally:
        hl.close()


def run_cli(tmp_path: Path, *args: str) -> int:
    return main(
        [*args, "--data-dir", str(tmp_path), "--database-url", f"sqlite:///{tmp_path / 'cli.db'}"]
    )


def test_the_cli_imports_gb18030_and_reports_problems_in_the_terminals_language(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    good = tmp_path / "good.csv"
    good.write_bytes(
        "name,phones,grade\n周杰,13500001111,A\n蔡依,13500002222,B\n".encode("gb18030")
    )
    assert run_cli(tmp_path, "customer", "import", str(good)) == 0
    assert "已导入 2 位客户。" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text('name,phones,grade\n周杰,13500001111,A\n吴敏,"13500003333,B\n', encoding="utf-8")
    assert run_cli(tmp_path, "customer", "import", str(bad)) == 2
    err = capsys.readouterr().err
    assert "未导入任何数据:文件中有 2 处问题。" in err
    assert "第 2 行,电话:号码 +8613500001111 已属于另一个客户档案。" in err
    assert "第 3 行:此行开始的带引号的值" in err and "Traceback" not in err
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert run_cli(tmp_path, "customer", "import", str(tmp_path / "missing.csv")) == 2
    assert "Cannot read the file:" in capsys.readouterr().err
    assert run_cli(tmp_path, "customer", "import", str(tmp_path)) == 2  # a directory
    assert "Cannot read the file:" in capsys.readouterr().err
    dup = tmp_path / "dup.csv"
    dup.write_text("name,phones\n周杰,13500001111\n", encoding="utf-8")
    assert run_cli(tmp_path, "customer", "import", str(dup)) == 2
    assert (
        "line 2, Phones: The number +8613500001111 already belongs to another customer file."
        in capsys.readouterr().err
    )
