"""The Japanese words of the audit log (変更履歴): its fields, actions, kinds of record, actors
that are not people, and sources. The rest of the admin's words are in ``messages.py``."""

from __future__ import annotations

# The audit log's fields (flattened: ``title.en``, ``event.starts_at``) → Japanese labels.
# A language suffix is added from LANGUAGES: ``title.en`` → 「タイトル（English）」.
AUDIT_FIELDS: dict[str, str] = {
    "kind": "種類",
    "status": "状態",
    "title": "タイトル",
    "body": "本文",
    "targets": "対象地域",
    "starts_at": "表示開始",
    "ends_at": "表示終了",
    "dayparts": "表示する時間帯",
    "priority": "優先度",
    "category": "分類",
    "drill": "訓練",
    "detail_url": "詳細ページのURL",
    "image": "画像",
    "source": "情報源",
    "created_at": "作成日時",
    "event.starts_at": "イベント開始",
    "event.ends_at": "イベント終了",
    "event.all_day": "終日",
    "place.name": "会場名",
    "place.address": "会場の住所",
    "place.lat": "会場の緯度",
    "place.lon": "会場の経度",
    "alert.cap_status": "警報の区分",
    "alert.msg_type": "警報の種別",
    "alert.severity": "深刻度",
    "alert.urgency": "緊急度",
    "alert.certainty": "確度",
    "alert.identifier": "警報の識別子",
    "alert.sender": "送信元",
    "alert.sent": "送信日時",
    "alert.references": "参照する警報",
    "alert.warning_level": "警戒レベル",
    "alert.kind": "情報の種類",
    "alert.needs_review": "確認が必要",
    "alert.held_reason": "保留の理由",
    "name": "ユーザー名",
    "role": "役割",
    "scope": "担当範囲",
    "active": "有効",
    "user": "職員",
    "label": "用途",
    "failures": "連続失敗回数",
    "reason": "理由",
    "sender": "送信元",
    "review_comment": "差し戻しの理由",
}

AUDIT_ACTIONS: dict[str, str] = {
    "create": "作成",
    "update": "編集",
    "submit": "承認を依頼",
    "approve": "承認",
    "return": "差し戻し",
    "withdraw": "取り下げ",
    "expire": "表示期間の終了",
    "enable": "再開",
    "disable": "停止",
    "password": "パスワード変更",
    "revoke": "失効",
    "rotate-token": "トークンを新しくする",
    "delay": "ログイン失敗による待機",
    "cap-update": "警報の更新（CAP）",
    "cap-cancel": "警報の取り消し（CAP）",
    "cap-refused": "警報を拒否（CAP）",
    "jma-update": "気象庁情報の更新",
    "jma-lift": "気象庁情報の解除",
}

AUDIT_ENTITIES: dict[str, str] = {
    "item": "お知らせ",
    "user": "職員アカウント",
    "token": "APIトークン",
    "screen": "画面",
    "alert": "警報",
}

# Who did it, when it was not a person.
AUDIT_ACTORS: dict[str, str] = {
    "scheduler": "自動処理（スケジューラー）",
    "cli": "コマンド",
    "login": "ログイン処理",
}

# Where an item came from (``items.source``), when it is not a collected source's name.
AUDIT_SOURCES: dict[str, str] = {
    "staff": "職員の入力",
    "cli": "コマンド",
}
