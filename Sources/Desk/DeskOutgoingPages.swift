import Control
import Envelope
import Foundation
import Hummingbird
import Node
import Spool
import Topology

/// *Văn bản đi*: compose (recipients by name or by group from the tree), the sent list, the
/// per-recipient tracking ("ai chưa nhận?") and *Thu hồi*.
struct DeskOutgoingPages {
    let app: DeskApp

    static let documentTypes = [
        "Công văn", "Quyết định", "Chỉ thị", "Thông báo",
        "Kế hoạch", "Báo cáo", "Tờ trình", "Giấy mời", "Công điện",
    ]

    func register(_ router: Router<DeskRequestContext>) {
        router.get("van-ban-di") { _, context in try await self.sent(context) }
        router.get("van-ban-di/soan") { _, context in self.compose(context) }
        router.post("van-ban-di") { request, context in try await self.send(request, context) }
        router.get("van-ban-di/:id") { _, context in try await self.tracking(context) }
        router.post("van-ban-di/:id/thu-hoi") { request, context in try await self.recall(request, context) }
    }

    /// The tree as the authority signed it (a failed-over commune stays under its own district).
    var topology: Topology { app.runtime.identity.liveTopology.signedTopology }
    var me: NodeID { app.runtime.identity.id }

    func compose(_ context: DeskRequestContext) -> Response {
        let t = topology
        var groups: [[String: String]] = [
            ["value": "level:commune", "label": "Tất cả các xã"],
            [
                "value": "all",
                "label": "Tất cả cơ quan",
            ],
        ]
        // Retired units (merged into others) are not offered: their successors are.
        for n in t.nodes where !n.isRetired && (n.level == .district || (n.level == .province && t.hasChildren(n.id))) {
            groups.append(["value": "subtree:\(n.id.rawValue)", "label": "\(n.name) và các cơ quan trực thuộc"])
            if n.level == .district {
                groups.append(["value": "children:\(n.id.rawValue)", "label": "Các xã của \(n.name)"])
            }
        }
        // Depth-first, so each commune sits under its district.
        var agencies: [[String: String]] = []
        var stack = [t.root.id]
        while let id = stack.popLast() {
            if let n = t[id], id != me, !n.isRetired {
                agencies.append(["id": id.rawValue, "name": n.name, "level": n.level.rawValue])
            }
            stack.append(contentsOf: t.children(of: id).reversed())
        }
        let urgencies = Urgency.allCases.map { ["value": $0.cliName, "label": $0.displayName] }
        return app.page(
            "compose",
            [
                "title": "Soạn văn bản", "groups": groups, "agencies": agencies, "urgencies": urgencies,
                "documentTypes": Self.documentTypes,
            ], context: context)
    }

    /// Recipients from the ticked agencies and the chosen group, without this node. A group means
    /// the units that exist now: retired ones (merged into others) are left to their successors.
    func recipients(_ fields: FormFields) throws -> [String] {
        var ids = Set(fields.all("to"))
        if let group = fields["nhom"], !group.isEmpty {
            let t = topology
            let parts = group.split(separator: ":", maxSplits: 1).map(String.init)
            let members: [TopologyNode]
            switch (parts.first, parts.count > 1 ? try? NodeID(parts[1]) : nil) {
            case ("all", _): members = t.nodes
            case ("level", _): members = t.nodes.filter { $0.level.rawValue == parts.last }
            case ("subtree", let id?): members = t.subtree(of: id).compactMap { t[$0] }
            case ("children", let id?): members = t.children(of: id).compactMap { t[$0] }
            default: throw DeskError(.badRequest, "unknown recipient group", vi: "Nhóm nơi nhận không hợp lệ.")
            }
            ids.formUnion(members.filter { !$0.isRetired }.map(\.id.rawValue))
        }
        ids.remove(me.rawValue)
        return ids.sorted()
    }

    func send(_ request: Request, _ context: DeskRequestContext) async throws -> Response {
        let ops = try app.operations(context)
        let upload = try await UploadReceiver.receive(request, scratch: app.scratch, csrf: context.session?.csrf)
        defer { upload.discard() }
        let f = upload.fields
        var send: SendRequest
        if let package = upload.files.first(where: { $0.field == "edxml" && $0.size > 0 }) {
            send = SendRequest(to: [], urgency: "thuong", expiresInMs: 30 * 86_400_000, subject: "", files: [])
            send.edxml = package.path
            send.skipUnknown = true
        } else {
            func text(_ key: String) -> String? {
                f[key].map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
            }
            guard let subject = text("subject") else {
                throw DeskError(.badRequest, "a document needs a subject", vi: "Hãy nhập trích yếu văn bản.")
            }
            let files = upload.files.filter { $0.field == "file" && !$0.name.isEmpty && $0.size > 0 }
            var r = SendRequest(
                to: try recipients(f), urgency: text("urgency") ?? "thuong", expiresInMs: 30 * 86_400_000,
                subject: subject, codeNumber: text("codeNumber"), codeNotation: text("codeNotation"),
                documentType: text("documentType"), files: files.map(\.path))
            r.dueDate = text("dueDate")
            send = r
        }
        let account = try context.requireAccount()
        let sent = try await app.blocking { [send, spool = app.runtime.spool, now = app.now()] in
            let report = try ops.send(send)
            try spool.recordAccountEvent(.submitted, actor: "desk:\(account)", detail: "sent \(report.id)", now: now)
            return report
        }
        return Response.redirect(to: "/van-ban-di/\(sent.id)", type: .found)
    }

    func sent(_ context: DeskRequestContext) async throws -> Response {
        let ops = try app.operations(context)
        let list = try await app.blocking { try ops.sentList() }
        let rows: [[String: Any]] = list.map { s in
            [
                "id": s.id, "shortId": String(s.id.prefix(12)), "sentAt": DeskText.date(s.sentAt),
                "arrived": s.arrived, "recipients": s.recipients, "missing": s.recipients - s.arrived,
                "subject": s.subject ?? "(không có trích yếu)", "reference": s.reference ?? "",
            ]
        }
        return app.page(
            "sent", ["title": "Văn bản đi", "items": rows, "refresh": DeskPages.refreshSeconds], context: context)
    }

    func tracking(_ context: DeskRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let ops = try app.operations(context)
        let (report, summary) = try await app.blocking {
            let report = try ops.track(id)
            return (report, try ops.sentList().first { $0.id == report.id })
        }
        let sentAt = summary?.sentAt
        let now = app.now()
        let notArrived: Set<String> = [ReceiptStatus.pending.rawValue, ReceiptStatus.undeliverable.rawValue]
        let missing: [[String: Any]] = report.entries.filter { notArrived.contains($0.status) }.map { e in
            let since = sentAt ?? e.updatedAt
            return [
                "name": e.name, "recipient": e.recipient,
                "since": "\(DeskText.date(since)) (\(DeskText.age(now - since)))",
            ]
        }
        let entries: [[String: Any]] = report.entries.map { e in
            [
                "recipient": e.recipient, "name": e.name, "status": e.status,
                "statusName": DeskText.status(e.status), "recallName": e.recallName as Any,
                "updatedAt": DeskText.date(e.updatedAt), "reason": e.reason ?? e.recallReason ?? "",
            ]
        }
        return app.page(
            "tracking",
            [
                "title": summary?.subject ?? "Theo dõi văn bản \(report.id.prefix(12))", "id": report.id,
                "reference": summary?.reference ?? "", "entries": entries,
                "missing": missing, "recipients": report.recipients,
                "arrived": report.recipients - missing.count, "sentAt": sentAt.map(DeskText.date) ?? "",
                "refresh": DeskPages.refreshSeconds,
            ], context: context)
    }

    func recall(_ request: Request, _ context: DeskRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let form = try await request.formFields(context)
        try DeskPages.checkCSRF(form["csrf"], context)
        let reason = form["reason"] ?? ""
        let ops = try app.operations(context)
        _ = try await app.blocking {
            defer { ops.gate.notify() }
            return try ops.recall(id, reason: reason)
        }
        return Response.redirect(to: "/van-ban-di/\(id)", type: .found)
    }
}
