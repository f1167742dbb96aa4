import Control
import Envelope
import Foundation
import Hummingbird
import Node
import Spool
import Topology

/// The web app for clerks, in Vietnamese: sign-in, *Văn bản đến* (inbox, document, answers),
/// *Văn bản đi* (compose, sent list, tracking, recall) and *Hệ thống* for operators. Pages are
/// server-rendered and work without JavaScript; lists refresh themselves every few seconds.
///
/// Security note: every form carries the session's CSRF token and is refused without it; the
/// sign-in is throttled per account and per address; templates escape everything they print.
struct DeskPages {
    let app: DeskApp
    static let refreshSeconds = 10

    func register(_ router: Router<DeskRequestContext>) {
        router.get("/") { _, _ in Response.redirect(to: "/van-ban-den") }
        router.get("static/desk.css") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/css; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: DeskTemplates.css)))
        }
        router.get("metrics") { _, _ in
            let bytes = try await self.app.blocking { [runtime = self.app.runtime] in
                try DeskMetrics(runtime: runtime).render()
            }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        let login = DeskLogin(app: app)
        router.get("dang-nhap") { _, context in login.form(context) }
        router.post("dang-nhap") { request, context in try await login.signIn(request, context) }
        router.post("dang-xuat") { request, context in try await login.signOut(request, context) }
        router.get("van-ban-den") { _, context in try await self.inbox(context) }
        router.get("van-ban-den/:id") { _, context in try await self.document(context) }
        router.get("van-ban-den/:id/tep/:index") { _, context in
            try await DeskDownload(app: self.app).attachment(
                try context.parameters.require("id"), index: try context.parameters.require("index", as: Int.self),
                context)
        }
        router.get("van-ban-den/:id/edxml") { _, context in
            try await DeskDownload(app: self.app).package(try context.parameters.require("id"), context)
        }
        router.post("van-ban-den/:id/trang-thai") { request, context in try await self.answer(request, context) }
        router.post("van-ban-den/:id/thu-hoi") { request, context in try await self.answerRecall(request, context) }
        let outgoing = DeskOutgoingPages(app: app)
        outgoing.register(router)
        router.get("he-thong") { request, context in try await self.system(request, context) }
        router.post("he-thong/hang-doi") { request, context in try await self.queueAction(request, context) }
    }

    // MARK: - Văn bản đến

    func inbox(_ context: DeskRequestContext) async throws -> Response {
        let ops = try app.operations(context)
        let items = try await app.blocking { try ops.inbox(limit: 500) }
        // Urgent first (Hỏa tốc, Thượng khẩn, Khẩn), newest first within each.
        let sorted = items.enumerated().sorted { a, b in
            let ra = DeskText.urgency(a.element.urgency)?.rank ?? 0
            let rb = DeskText.urgency(b.element.urgency)?.rank ?? 0
            return ra != rb ? ra > rb : a.offset < b.offset
        }.map(\.element)
        let rows: [[String: Any]] = sorted.map { i in
            [
                "id": i.id, "urgencyClass": i.urgency,
                "urgencyName": DeskText.urgency(i.urgency)?.displayName ?? i.urgency,
                "unread": i.status == ReceiptStatus.arrived.rawValue, "reference": i.reference ?? "",
                "subject": (i.subject?.isEmpty == false ? i.subject! : "(không có trích yếu)"),
                "originName": i.originName, "receivedAt": DeskText.date(i.receivedAt),
                "statusName": DeskText.status(i.status),
                "recallName": i.recall.map(DeskText.status) as Any,
            ]
        }
        return app.page(
            "inbox",
            ["title": "Văn bản đến", "items": rows, "count": rows.count, "refresh": Self.refreshSeconds],
            context: context)
    }

    func document(_ context: DeskRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let ops = try app.operations(context)
        let view = try await app.blocking { try ops.show(id) }
        let files: [[String: Any]] = view.files.enumerated().map { n, f in
            ["docId": view.item.id, "index": n, "name": f.name, "size": DeskText.bytes(f.size)]
        }
        let item = view.item
        let values: [String: Any] = [
            "title": view.subject.isEmpty ? "Văn bản" : view.subject, "id": item.id,
            "reference": view.reference ?? "", "subject": view.subject, "organName": view.organName ?? item.originName,
            "documentType": view.documentType ?? "", "promulgationDate": view.promulgationDate.map(DeskText.day) ?? "",
            "dueDate": view.dueDate.map(DeskText.day) ?? "", "urgencyClass": item.urgency,
            "urgencyName": DeskText.urgency(item.urgency)?.displayName ?? item.urgency,
            "receivedAt": DeskText.date(item.receivedAt), "statusName": DeskText.status(item.status),
            "recallName": item.recall.map(DeskText.status) as Any,
            "recallPending": item.recall == ReceiptStatus.recalled.rawValue,
            "destroyed": view.contentDestroyedAt != nil || view.archivedTo != nil,
            "recalledContent": view.contentDestroyedAt != nil, "files": files,
            "archivedAt": view.archivedAt.map(DeskText.date) as Any, "archivedTo": view.archivedTo as Any,
        ]
        return app.page("document", values, context: context)
    }

    func answer(_ request: Request, _ context: DeskRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let form = try await checkedForm(request, context)
        let status = form["status"] ?? ""
        let reason = form["reason"].flatMap { $0.isEmpty ? nil : $0 }
        let ops = try app.operations(context)
        _ = try await app.blocking {
            defer { ops.gate.notify() }
            return try ops.setStatus(id, status, reason: reason)
        }
        return Response.redirect(to: "/van-ban-den/\(id)", type: .found)
    }

    func answerRecall(_ request: Request, _ context: DeskRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let form = try await checkedForm(request, context)
        let accept = form["accept"] == "1"
        let reason = form["reason"].flatMap { $0.isEmpty ? nil : $0 }
        let ops = try app.operations(context)
        _ = try await app.blocking {
            defer { ops.gate.notify() }
            return try ops.answerRecall(id, accept: accept, reason: reason)
        }
        return Response.redirect(to: "/van-ban-den/\(id)", type: .found)
    }

    // MARK: - Hệ thống

    func system(_ request: Request, _ context: DeskRequestContext) async throws -> Response {
        try context.requireOperator()
        let ops = try app.operations(context)
        let (status, peers) = try await app.blocking { (try ops.status(), try ops.peers()) }
        let now = app.now()
        let roles = [
            "parent": "cấp trên", "failover-parent": "cấp trên dự phòng", "child": "cấp dưới",
            "failover-child": "cấp dưới (dự phòng)",
        ]
        let names = [
            "ready": "sẵn sàng gửi", "inflight": "đang gửi", "deferred": "chờ gửi lại",
            "held": "tạm giữ", "quarantined": "cách ly",
        ]
        let rows: [[String: Any]] = peers.map { p in
            [
                "peer": p.peer, "name": p.name, "role": roles[p.role] ?? p.role, "connected": p.connected,
                "lastContact": p.lastContact.map { "\(DeskText.date($0)) (\(DeskText.age(now - $0)) trước)" }
                    ?? "chưa",
                "backlogEntries": p.backlogEntries, "backlogBytes": DeskText.bytes(p.backlogBytes),
                "lastError": p.lastError ?? "",
            ]
        }
        let states: [[String: Any]] = ["ready", "inflight", "deferred", "held", "quarantined"].map {
            ["name": names[$0] ?? $0, "count": status.queueByState[$0] ?? 0]
        }
        let done = request.uri.queryParameters.get("xong").map { "Đã áp dụng cho \($0) mục." }
        return app.page(
            "system",
            [
                "title": "Hệ thống", "peers": rows, "states": states, "queueTotal": status.queueTotal,
                "oldest": status.oldestEntryAgeSeconds.map { DeskText.age($0 * 1000) } ?? "không có",
                "refresh": Self.refreshSeconds, "done": done as Any,
            ], context: context)
    }

    func queueAction(_ request: Request, _ context: DeskRequestContext) async throws -> Response {
        try context.requireOperator()
        let form = try await checkedForm(request, context)
        guard let verb = form["verb"].flatMap(QueueAction.Verb.init(rawValue:)), verb != .delete else {
            throw DeskError(.badRequest, "unknown queue action", vi: "Thao tác không hợp lệ.")
        }
        let peer = form["peer"].flatMap { $0.isEmpty ? nil : $0 }
        let action = QueueAction(
            verb: verb, ids: [], all: true, peer: peer, reason: form["reason"].flatMap { $0.isEmpty ? nil : $0 },
            actor: "desk:\(try context.requireAccount())")
        let ops = try app.operations(context)
        let n = try await app.blocking {
            defer { ops.gate.notify() }
            return try ops.queue(action)
        }
        return Response.redirect(to: "/he-thong?xong=\(n)", type: .found)
    }

    /// The form's fields once its CSRF token matches the session's.
    func checkedForm(_ request: Request, _ context: DeskRequestContext) async throws -> FormFields {
        let form = try await request.formFields(context)
        try Self.checkCSRF(form["csrf"], context)
        return form
    }

    static func checkCSRF(_ token: String?, _ context: DeskRequestContext) throws {
        // An API token is not a browser: no cookie rides along, so there is nothing to forge.
        guard let session = context.session else { return }
        guard let token, token == session.csrf else {
            throw DeskError(
                .csrf, "the form's CSRF token is missing or wrong; reload the page",
                vi: "Phiên làm việc không hợp lệ; hãy tải lại trang rồi thử lại.")
        }
    }
}
