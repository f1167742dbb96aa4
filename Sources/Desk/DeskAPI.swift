import Control
import Envelope
import Foundation
import Hummingbird
import Node
import Spool
import Topology

/// `/api/v1`: what an e-office system needs, named after the national platform's verbs (send a
/// document, list received documents, get a document, update a status), described in
/// docs/openapi.yaml. Every route needs an account (`DeskAuthMiddleware`); errors are JSON with
/// the module's code and messages in English and Vietnamese.
///
/// Security note: ids and statuses from the request are parsed by `NodeOperations` as on the
/// control socket; uploads go through `UploadReceiver`; downloads are streamed from a scratch
/// copy in the node home that is removed when the answer ends.
struct DeskAPI {
    let app: DeskApp

    func register(_ api: RouterGroup<DeskRequestContext>) {
        api.get("node") { _, context in try await self.node(context) }
        api.get("agencies") { _, _ in try self.json(DeskAgencies(self.app.runtime.identity.liveTopology.signedTopology))
        }
        api.post("documents") { request, context in try await self.send(request, context) }
        api.get("documents/received") { request, context in try await self.received(request, context) }
        api.get("documents/received/:id") { _, context in
            let id = try context.parameters.require("id")
            let ops = try self.app.operations(context)
            return try self.json(try await self.app.blocking { try ops.show(id) })
        }
        api.get("documents/received/:id/files/:index") { _, context in
            try await DeskDownload(app: self.app).attachment(
                try context.parameters.require("id"), index: try context.parameters.require("index", as: Int.self),
                context)
        }
        api.get("documents/received/:id/edxml") { _, context in
            try await DeskDownload(app: self.app).package(try context.parameters.require("id"), context)
        }
        api.post("documents/received/:id/status") { request, context in
            try await self.setStatus(request, context)
        }
        api.get("documents/sent") { _, context in
            let ops = try self.app.operations(context)
            return try self.json(["items": try await self.app.blocking { try ops.sentList() }])
        }
        api.get("documents/sent/:id") { _, context in
            let id = try context.parameters.require("id")
            let ops = try self.app.operations(context)
            return try self.json(try await self.app.blocking { try ops.track(id) })
        }
        api.post("documents/sent/:id/recall") { request, context in
            let id = try context.parameters.require("id")
            let body = try await request.json(RecallBody.self, context)
            let ops = try self.app.operations(context)
            let n = try await self.app.blocking {
                let n = try ops.recall(id, reason: body.reason)
                ops.gate.notify()
                return n
            }
            return try self.json(["recipients": n])
        }
        api.post("queue/:verb") { request, context in
            try context.requireOperator()
            guard let verb = QueueAction.Verb(rawValue: try context.parameters.require("verb")), verb != .delete else {
                throw DeskError(.notFound, "the queue actions are hold, release and retry")
            }
            let body = try await request.json(QueueBody.self, context)
            let action = QueueAction(
                verb: verb, ids: body.ids ?? [], all: body.all ?? false, peer: body.peer, reason: body.reason,
                actor: "desk:\(try context.requireAccount())")
            let ops = try self.app.operations(context)
            let n = try await self.app.blocking {
                let n = try ops.queue(action)
                ops.gate.notify()
                return n
            }
            return try self.json(["count": n])
        }
    }

    struct RecallBody: Decodable { let reason: String }
    struct StatusBody: Decodable {
        let status: String
        let reason: String?
    }
    struct QueueBody: Decodable {
        let ids: [String]?
        let all: Bool?
        let peer: String?
        let reason: String?
    }

    // MARK: - Handlers

    func node(_ context: DeskRequestContext) async throws -> Response {
        let ops = try app.operations(context)
        let (status, peers) = try await app.blocking { (try ops.status(), try ops.peers()) }
        return try json(DeskNodeReport(status: status, peers: peers))
    }

    func received(_ request: Request, _ context: DeskRequestContext) async throws -> Response {
        let q = request.uri.queryParameters
        let limit = Int(String(q.get("limit") ?? "50")) ?? -1
        let offset = Int(String(q.get("offset") ?? "0")) ?? -1
        guard (1...1000).contains(limit), offset >= 0 else {
            throw DeskError(
                .badRequest, "limit is 1…1000 and offset 0 or more",
                vi: "Tham số phân trang không hợp lệ.")
        }
        let filter = try InboxFilter(
            status: q.get("status").map { String($0) }, urgency: q.get("urgency").map { String($0) },
            since: q.get("since").map { String($0) })
        let ops = try app.operations(context)
        let all = try await app.blocking { try ops.inbox(limit: 100_000) }.filter(filter.matches)
        let page = Array(all.dropFirst(offset).prefix(limit))
        return try json(ReceivedPage(items: page, total: all.count, offset: offset, limit: limit))
    }

    func send(_ request: Request, _ context: DeskRequestContext) async throws -> Response {
        let ops = try app.operations(context)
        let upload = try await UploadReceiver.receive(
            request, scratch: app.scratch, csrf: nil)
        defer { upload.discard() }
        var send: SendRequest
        if let package = upload.files.first(where: { $0.field == "edxml" }) {
            send = SendRequest(to: [], urgency: "thuong", expiresInMs: 30 * 86_400_000, subject: "", files: [])
            send.edxml = package.path
            send.skipUnknown = upload.fields["skipUnknown"] == "true"
        } else {
            guard let text = upload.fields["metadata"] else {
                throw DeskError(
                    .badRequest, "give a metadata field (JSON) and files, or one edxml file",
                    vi: "Thiếu thông tin văn bản (metadata) hoặc gói edXML.")
            }
            let m: SendMetadata
            do { m = try JSONDecoder().decode(SendMetadata.self, from: Data(text.utf8)) } catch {
                throw DeskError(
                    .badRequest, "the metadata field is not the JSON docs/openapi.yaml describes",
                    vi: "Thông tin văn bản không đúng định dạng.", cause: "\(error)")
            }
            send = try m.request(files: upload.files.map(\.path))
        }
        send.resend = upload.fields["resend"] == "true"
        let account = try context.requireAccount()
        let sent = try await app.blocking { [send, spool = app.runtime.spool, now = app.now()] in
            let report = try ops.send(send)
            try spool.recordAccountEvent(
                .submitted, actor: "desk:\(account)", detail: "sent \(report.id)", now: now)
            return report
        }
        return try json(sent, status: .created)
    }

    func setStatus(_ request: Request, _ context: DeskRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let body = try await request.json(StatusBody.self, context)
        let ops = try app.operations(context)
        let changed = try await app.blocking {
            defer { ops.gate.notify() }
            switch body.status {
            case "15", "16": return try ops.answerRecall(id, accept: body.status == "15", reason: body.reason)
            default: return try ops.setStatus(id, body.status, reason: body.reason)
            }
        }
        return try json(["changed": changed])
    }

    func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }
}

/// The JSON metadata of an API send.
struct SendMetadata: Decodable {
    let to: [String]
    let subject: String
    let urgency: String?
    let codeNumber: String?
    let codeNotation: String?
    let documentType: String?
    let dueDate: String?
    let expiresInDays: Int?

    func request(files: [String]) throws -> SendRequest {
        let days = expiresInDays ?? 30
        guard (1...3650).contains(days) else {
            throw DeskError(
                .badRequest, "expiresInDays is 1…3650",
                vi: "Thời hạn lưu chuyển không hợp lệ.")
        }
        var r = SendRequest(
            to: to, urgency: urgency ?? "thuong", expiresInMs: Int64(days) * 86_400_000, subject: subject,
            codeNumber: codeNumber, codeNotation: codeNotation, documentType: documentType, files: files)
        r.dueDate = dueDate
        return r
    }
}

struct ReceivedPage: Encodable {
    let items: [InboxItem]
    let total: Int
    let offset: Int
    let limit: Int
}

struct DeskNodeReport: Encodable {
    let status: NodeStatusReport
    let peers: [PeerReport]
}

/// The filters of the received-documents list.
struct InboxFilter {
    let status: String?
    let urgency: String?
    let since: Int64?

    init(status: String?, urgency: String?, since: String?) throws {
        if let status, ReceiptStatus(rawValue: status) == nil {
            throw DeskError(
                .badRequest, "unknown status '\(status.prefix(20))'",
                vi: "Trạng thái không hợp lệ.")
        }
        if let urgency, DeskText.urgency(urgency) == nil {
            throw DeskError(
                .badRequest, "unknown urgency '\(urgency.prefix(20))'",
                vi: "Độ khẩn không hợp lệ.")
        }
        self.status = status
        self.urgency = urgency
        if let since {
            guard let ms = Int64(since), ms >= 0 else {
                throw DeskError(
                    .badRequest, "since is milliseconds since 1970", vi: "Mốc thời gian không hợp lệ.")
            }
            self.since = ms
        } else {
            self.since = nil
        }
    }

    func matches(_ item: InboxItem) -> Bool {
        (status == nil || item.status == status) && (urgency == nil || item.urgency == urgency)
            && (since == nil || item.receivedAt >= since!)
    }
}

/// The tree of agencies, for choosing recipients by name.
struct DeskAgencies: Encodable {
    struct Agency: Encodable {
        let id: String
        let name: String
        let level: String
        let parent: String?
        let children: [String]
    }
    let network: String
    let agencies: [Agency]

    init(_ t: Topology) {
        network = t.network
        agencies = t.nodes.map { n in
            Agency(
                id: n.id.rawValue, name: n.name, level: n.level.rawValue, parent: n.primaryParent?.rawValue,
                children: t.children(of: n.id).map(\.rawValue))
        }
    }
}
