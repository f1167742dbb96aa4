import Mustache

/// The web app's templates (Mustache, HTML-escaped by default) and its style sheet, compiled
/// into the binary so an installed node needs no resource files. Everything a clerk reads is
/// Vietnamese.
enum DeskTemplates {
    static func library() throws -> MustacheLibrary {
        var library = MustacheLibrary()
        for (name, text) in templates { try library.register(text, named: name) }
        return library
    }

    static let templates: [String: String] = [
        "layout": """
        <!doctype html>
        <html lang="vi"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        {{#refresh}}<meta http-equiv="refresh" content="{{refresh}}">{{/refresh}}
        <title>{{title}} — LiênThông</title><link rel="stylesheet" href="/static/desk.css"></head>
        <body><header><span class="brand">LiênThông · {{node}}</span>
        {{#account}}<nav><a href="/van-ban-den">Văn bản đến</a> <a href="/van-ban-di">Văn bản đi</a>
        <a href="/van-ban-di/soan">Soạn văn bản</a>{{#isOperator}} <a href="/he-thong">Hệ \
        thống</a>{{/isOperator}}</nav>
        <form class="logout" method="post" action="/dang-xuat"><input type="hidden" name="csrf" value="{{csrf}}">
        <span>{{account}}</span> <button type="submit">Đăng xuất</button></form>{{/account}}</header>
        <main><h1>{{title}}</h1>{{{content}}}</main></body></html>
        """,
        "login": """
        {{#message}}<p class="error">{{message}}</p>{{/message}}
        <form method="post" action="/dang-nhap" class="login">
        <label>Tên đăng nhập <input name="name" autocomplete="username" required value="{{name}}"></label>
        <label>Mật khẩu <input name="password" type="password" autocomplete="current-password" required></label>
        <button type="submit">Đăng nhập</button></form>
        """,
        "error": """
        <p class="error">{{message}}</p><p class="code">Mã lỗi: {{code}}</p>
        <p><a href="/van-ban-den">Về trang Văn bản đến</a></p>
        """,
        "inbox": """
        <p class="hint">Tự cập nhật sau mỗi {{refresh}} giây. {{count}} văn bản.</p>
        <table id="inbox"><thead><tr><th>Độ khẩn</th><th>Số, ký hiệu</th><th>Trích yếu</th><th>Cơ quan \
        gửi</th>
        <th>Ngày đến</th><th>Trạng thái</th></tr></thead><tbody>
        {{#items}}<tr class="{{urgencyClass}}{{#unread}} unread{{/unread}}" data-id="{{id}}">
        <td><span class="badge {{urgencyClass}}">{{urgencyName}}</span></td><td>{{reference}}</td>
        <td><a href="/van-ban-den/{{id}}">{{subject}}</a></td><td>{{originName}}</td><td>{{receivedAt}}</td>
        <td>{{statusName}}{{#recallName}} · <strong>{{recallName}}</strong>{{/recallName}}</td></tr>{{/items}}
        {{^items}}<tr><td colspan="6">Chưa có văn bản đến.</td></tr>{{/items}}
        </tbody></table>
        """,
        "document": """
        <dl class="meta">
        <dt>Số, ký hiệu</dt><dd id="reference">{{reference}}</dd>
        <dt>Trích yếu</dt><dd id="subject">{{subject}}</dd>
        <dt>Cơ quan ban hành</dt><dd>{{organName}}</dd>
        <dt>Loại văn bản</dt><dd>{{documentType}}</dd>
        <dt>Ngày ban hành</dt><dd>{{promulgationDate}}</dd>
        <dt>Hạn xử lý</dt><dd>{{dueDate}}</dd>
        <dt>Độ khẩn</dt><dd><span class="badge {{urgencyClass}}">{{urgencyName}}</span></dd>
        <dt>Ngày đến</dt><dd>{{receivedAt}}</dd>
        <dt>Trạng thái</dt><dd id="status">{{statusName}}</dd>
        {{#recallName}}<dt>Thu hồi</dt><dd><strong>{{recallName}}</strong></dd>{{/recallName}}
        </dl>
        {{#recalledContent}}<p class="error">Văn bản đã được thu hồi; nội dung đã bị \
        hủy.</p>{{/recalledContent}}
        {{#archivedTo}}<p class="notice">Văn bản đã quá thời hạn lưu giữ: nội dung đã được \
        chuyển vào kho lưu trữ \
        ngày {{archivedAt}} ({{archivedTo}}); liên hệ quản trị để lấy lại.</p>{{/archivedTo}}
        {{^destroyed}}<h2>Tệp đính kèm</h2><ul class="files">
        {{#files}}<li><a href="/van-ban-den/{{docId}}/tep/{{index}}" download>{{name}}</a> ({{size}})</li>{{/files}}
        </ul><p><a href="/van-ban-den/{{id}}/edxml">Tải gói edXML</a></p>{{/destroyed}}
        {{#recallPending}}<h2>Yêu cầu thu hồi</h2>
        <form method="post" action="/van-ban-den/{{id}}/thu-hoi" class="actions">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <button name="accept" value="1" type="submit">Đồng ý thu hồi</button>
        <button name="accept" value="0" type="submit">Không đồng ý</button>
        <label>Lý do <input name="reason"></label></form>{{/recallPending}}
        {{^recallPending}}{{^destroyed}}<h2>Xử lý</h2>
        <form method="post" action="/van-ban-den/{{id}}/trang-thai" class="actions">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <button name="status" value="03" type="submit" id="tiep-nhan">Tiếp nhận</button>
        <button name="status" value="04" type="submit">Phân công</button>
        <button name="status" value="05" type="submit">Đang xử lý</button>
        <button name="status" value="06" type="submit">Hoàn thành</button>
        <span class="reject"><label>Lý do từ chối <input name="reason"></label>
        <button name="status" value="02" type="submit">Từ \
        chối</button></span></form>{{/destroyed}}{{/recallPending}}
        """,
        "sent": """
        <p class="hint">Tự cập nhật sau mỗi {{refresh}} giây. <a href="/van-ban-di/soan">Soạn văn bản \
        mới</a></p>
        <table id="sent"><thead><tr><th>Ngày gửi</th><th>Số, ký hiệu</th><th>Trích yếu</th><th>Đã \
        nhận</th>
        <th>Chưa nhận</th></tr></thead>
        <tbody>{{#items}}<tr><td>{{sentAt}}</td><td>{{reference}}</td><td><a href="/van-ban-di/{{id}}">{{subject}}
        </a></td>
        <td>{{arrived}}/{{recipients}}</td><td>{{missing}}</td></tr>{{/items}}
        {{^items}}<tr><td colspan="5">Chưa gửi văn bản nào.</td></tr>{{/items}}</tbody></table>
        """,
        "tracking": """
        <p class="hint">{{#reference}}Số, ký hiệu: {{reference}}. {{/reference}}Tự cập nhật sau mỗi \
        {{refresh}}
        giây. Gửi lúc {{sentAt}}.
        Đã nhận {{arrived}}/{{recipients}}.</p>
        <h2>Ai chưa nhận?</h2><ul id="missing">{{#missing}}<li>{{name}} ({{recipient}}) — chưa nhận từ
        {{since}}</li>{{/missing}}{{^missing}}<li>Tất cả đã nhận.</li>{{/missing}}</ul>
        <table id="tracking"><thead><tr><th>Cơ quan nhận</th><th>Trạng thái</th><th>Cập nhật</th><th>Ghi \
        chú</th>
        </tr></thead><tbody>{{#entries}}<tr data-recipient="{{recipient}}"><td>{{name}}</td>
        <td class="status" data-status="{{status}}">{{statusName}}{{#recallName}} · {{recallName}}{{/recallName}}</td>
        <td>{{updatedAt}}</td><td>{{reason}}</td></tr>{{/entries}}</tbody></table>
        <h2>Thu hồi</h2><form method="post" action="/van-ban-di/{{id}}/thu-hoi" class="actions">
        <input type="hidden" name="csrf" value="{{csrf}}"><label>Lý do <input name="reason" required></label>
        <button type="submit">Thu hồi</button></form>
        """,
        "compose": """
        <form method="post" action="/van-ban-di" enctype="multipart/form-data" class="compose">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <fieldset><legend>Nơi nhận</legend>
        <label>Nhóm <select name="nhom"><option value="">— không chọn nhóm —</option>
        {{#groups}}<option value="{{value}}">{{label}}</option>{{/groups}}</select></label>
        <details open><summary>Chọn từng cơ quan</summary><div class="agencies">
        {{#agencies}}<label class="level-{{level}}"><input type="checkbox" name="to" value="{{id}}"> {{name}}</label>
        {{/agencies}}</div></details></fieldset>
        <label>Trích yếu <input name="subject" required maxlength="1000"></label>
        <label>Số <input name="codeNumber" maxlength="20"></label>
        <label>Ký hiệu <input name="codeNotation" maxlength="50"></label>
        <label>Loại văn bản <select name="documentType">{{#documentTypes}}<option>{{.}}</option>{{/documentTypes}}
        </select></label>
        <label>Độ khẩn <select name="urgency">{{#urgencies}}<option \
        value="{{value}}">{{label}}</option>{{/urgencies}}
        </select></label>
        <label>Hạn xử lý <input name="dueDate" type="date"></label>
        <label>Tệp đính kèm <input name="file" type="file" multiple></label>
        <label>hoặc gói edXML <input name="edxml" type="file" accept=".edxml,.xml"></label>
        <button type="submit">Gửi văn bản</button></form>
        """,
        "system": """
        <p class="hint">Tự cập nhật sau mỗi {{refresh}} giây.</p>
        <h2>Kết nối</h2><table id="links"><thead><tr><th>Cơ quan</th><th>Vai trò</th><th>Trạng thái</th>
        <th>Liên lạc lần cuối</th><th>Hàng đợi</th><th>Lỗi gần nhất</th></tr></thead><tbody>
        {{#peers}}<tr><td>{{name}} ({{peer}})</td><td>{{role}}</td><td>{{#connected}}
        <span class="up">đang kết nối</span>
        {{/connected}}{{^connected}}<span class="down">mất kết \
        nối</span>{{/connected}}</td><td>{{lastContact}}</td>
        <td>{{backlogEntries}} ({{backlogBytes}})</td><td>{{lastError}}</td></tr>{{/peers}}</tbody></table>
        <h2>Hàng đợi</h2><p>{{queueTotal}} mục; cũ nhất: {{oldest}}.</p>
        <ul>{{#states}}<li>{{name}}: {{count}}</li>{{/states}}</ul>
        <form method="post" action="/he-thong/hang-doi" class="actions">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label>Cơ quan kế tiếp (để trống: tất cả) <select name="peer"><option value="">tất cả</option>
        {{#peers}}<option value="{{peer}}">{{name}}</option>{{/peers}}</select></label>
        <label>Lý do <input name="reason"></label>
        <button name="verb" value="hold" type="submit">Tạm giữ</button>
        <button name="verb" value="release" type="submit">Cho đi tiếp</button>
        <button name="verb" value="retry" type="submit">Gửi lại ngay</button></form>
        {{#done}}<p class="ok">{{done}}</p>{{/done}}
        """,
    ]

    static let css = """
        body{font-family:"Noto Sans","DejaVu Sans",Arial,sans-serif;margin:0;color:#1b1b1b;background:#f6f6f4}
        header{background:#8b1a1a;color:#fff;padding:.5em 1em;display:flex;gap:1.5em;align-items:center;flex-wrap:wrap}
        header a{color:#fff;margin-right:1em}.brand{font-weight:bold}.logout{margin-left:auto}
        main{padding:1em 1.5em;max-width:1200px}table{border-collapse:collapse;width:100%;background:#fff}
        th,td{border:1px solid #ccc;padding:.35em .5em;text-align:left;vertical-align:top}
        tr.unread td{font-weight:bold}.badge{padding:.1em .4em;border-radius:3px;background:#ddd;white-space:nowrap}
        .badge.hoa-toc,.badge.hoa-toc-hen-gio{background:#c00;color:#fff}
        .badge.thuong-khan{background:#e65c00;color:#fff}
        .badge.khan{background:#f0b400}tr.hoa-toc td,tr.hoa-toc-hen-gio td{background:#fde8e8}
        .error{color:#a00;font-weight:bold}.ok{color:#060}.hint{color:#555}.up{color:#060}.down{color:#a00}
        label{display:block;margin:.4em 0}.actions button{margin:.2em}.agencies{max-height:20em;overflow:auto}
        .level-district{font-weight:bold}.level-commune{margin-left:1.5em}dl.meta dt{font-weight:bold}
        dl.meta dd{margin:0 0 .5em 0}
        """
}
