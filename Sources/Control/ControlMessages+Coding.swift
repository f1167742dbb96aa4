import Foundation

/// The JSON of requests and results, written by hand so it stays plain and stable: one key naming
/// the operation, its value the payload itself (`{"send":{…}}`, `{"tracking":{…}}`) or an object
/// of named fields (`{"inboxList":{"limit":20}}`), never Swift's `_0` (docs/OPERATIONS.md).
/// Version 2 of the control protocol; a version-1 client gets a clear refusal.
private enum Field: String, CodingKey {
    case limit, id, out, status, reason, file, accept, changed, count, recipients, version, neighbours, from
}

private func exactlyOne<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ what: String) throws -> K {
    guard c.allKeys.count == 1, let key = c.allKeys.first else {
        throw DecodingError.dataCorrupted(
            .init(
                codingPath: c.codingPath,
                debugDescription: "\(what) names exactly one operation"))
    }
    return key
}

extension ControlRequest {
    private enum Name: String, CodingKey {
        case status, peers, send, inboxList, inboxShow, inboxExport, inboxExportEdXML, inboxSetStatus
        case inboxStatusEdXML, inboxRecall, track, trackEdXMLStatus, recall, queue, topologyPublish
        case envelopeImport
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Name.self)
        let name = try exactlyOne(c, "a request")
        func f() throws -> KeyedDecodingContainer<Field> { try c.nestedContainer(keyedBy: Field.self, forKey: name) }
        switch name {
        case .status:
            _ = try f()
            self = .status
        case .peers:
            _ = try f()
            self = .peers
        case .send: self = .send(try c.decode(SendRequest.self, forKey: name))
        case .inboxList: self = .inboxList(limit: try f().decode(Int.self, forKey: .limit))
        case .inboxShow: self = .inboxShow(id: try f().decode(String.self, forKey: .id))
        case .inboxExport:
            let f = try f()
            self = .inboxExport(
                id: try f.decode(String.self, forKey: .id),
                out: try f.decode(String.self, forKey: .out))
        case .inboxExportEdXML:
            let f = try f()
            self = .inboxExportEdXML(
                id: try f.decode(String.self, forKey: .id),
                out: try f.decode(String.self, forKey: .out))
        case .inboxSetStatus:
            let f = try f()
            self = .inboxSetStatus(
                id: try f.decode(String.self, forKey: .id),
                status: try f.decode(String.self, forKey: .status),
                reason: try f.decodeIfPresent(String.self, forKey: .reason))
        case .inboxStatusEdXML:
            let f = try f()
            self = .inboxStatusEdXML(
                id: try f.decode(String.self, forKey: .id),
                file: try f.decode(String.self, forKey: .file))
        case .inboxRecall:
            let f = try f()
            self = .inboxRecall(
                id: try f.decode(String.self, forKey: .id),
                accept: try f.decode(Bool.self, forKey: .accept),
                reason: try f.decodeIfPresent(String.self, forKey: .reason))
        case .track:
            let f = try f()
            self = .track(
                id: try f.decodeIfPresent(String.self, forKey: .id),
                limit: try f.decodeIfPresent(Int.self, forKey: .limit))
        case .trackEdXMLStatus:
            let f = try f()
            self = .trackEdXMLStatus(
                id: try f.decode(String.self, forKey: .id),
                out: try f.decode(String.self, forKey: .out))
        case .recall:
            let f = try f()
            self = .recall(
                id: try f.decode(String.self, forKey: .id),
                reason: try f.decode(String.self, forKey: .reason))
        case .queue: self = .queue(try c.decode(QueueAction.self, forKey: name))
        case .topologyPublish: self = .topologyPublish(file: try f().decode(String.self, forKey: .file))
        case .envelopeImport:
            let f = try f()
            self = .envelopeImport(
                file: try f.decode(String.self, forKey: .file),
                from: try f.decodeIfPresent(String.self, forKey: .from))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Name.self)
        func f(_ name: Name) -> KeyedEncodingContainer<Field> { c.nestedContainer(keyedBy: Field.self, forKey: name) }
        switch self {
        case .status: _ = f(.status)
        case .peers: _ = f(.peers)
        case .send(let request): try c.encode(request, forKey: .send)
        case .inboxList(let limit):
            var f = f(.inboxList)
            try f.encode(limit, forKey: .limit)
        case .inboxShow(let id):
            var f = f(.inboxShow)
            try f.encode(id, forKey: .id)
        case .inboxExport(let id, let out):
            var f = f(.inboxExport)
            try f.encode(id, forKey: .id)
            try f.encode(out, forKey: .out)
        case .inboxExportEdXML(let id, let out):
            var f = f(.inboxExportEdXML)
            try f.encode(id, forKey: .id)
            try f.encode(out, forKey: .out)
        case .inboxSetStatus(let id, let status, let reason):
            var f = f(.inboxSetStatus)
            try f.encode(id, forKey: .id)
            try f.encode(status, forKey: .status)
            try f.encodeIfPresent(reason, forKey: .reason)
        case .inboxStatusEdXML(let id, let file):
            var f = f(.inboxStatusEdXML)
            try f.encode(id, forKey: .id)
            try f.encode(file, forKey: .file)
        case .inboxRecall(let id, let accept, let reason):
            var f = f(.inboxRecall)
            try f.encode(id, forKey: .id)
            try f.encode(accept, forKey: .accept)
            try f.encodeIfPresent(reason, forKey: .reason)
        case .track(let id, let limit):
            var f = f(.track)
            try f.encodeIfPresent(id, forKey: .id)
            try f.encodeIfPresent(limit, forKey: .limit)
        case .trackEdXMLStatus(let id, let out):
            var f = f(.trackEdXMLStatus)
            try f.encode(id, forKey: .id)
            try f.encode(out, forKey: .out)
        case .recall(let id, let reason):
            var f = f(.recall)
            try f.encode(id, forKey: .id)
            try f.encode(reason, forKey: .reason)
        case .queue(let action): try c.encode(action, forKey: .queue)
        case .topologyPublish(let file):
            var f = f(.topologyPublish)
            try f.encode(file, forKey: .file)
        case .envelopeImport(let file, let from):
            var f = f(.envelopeImport)
            try f.encode(file, forKey: .file)
            try f.encodeIfPresent(from, forKey: .from)
        }
    }
}

extension ControlResult {
    private enum Name: String, CodingKey {
        case status, peers, sent, inbox, document, exported, statusChanged, tracking, sentList, queueChanged, recalled
        case topologyApplied, imported
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Name.self)
        let name = try exactlyOne(c, "a result")
        func f() throws -> KeyedDecodingContainer<Field> { try c.nestedContainer(keyedBy: Field.self, forKey: name) }
        switch name {
        case .status: self = .status(try c.decode(NodeStatusReport.self, forKey: name))
        case .peers: self = .peers(try c.decode([PeerReport].self, forKey: name))
        case .sent: self = .sent(try c.decode(SentReport.self, forKey: name))
        case .inbox: self = .inbox(try c.decode([InboxItem].self, forKey: name))
        case .document: self = .document(try c.decode(DocumentView.self, forKey: name))
        case .exported: self = .exported(try c.decode(ExportReport.self, forKey: name))
        case .statusChanged: self = .statusChanged(changed: try f().decode(Bool.self, forKey: .changed))
        case .tracking: self = .tracking(try c.decode(TrackReport.self, forKey: name))
        case .sentList: self = .sentList(try c.decode([TrackSummary].self, forKey: name))
        case .queueChanged: self = .queueChanged(count: try f().decode(Int.self, forKey: .count))
        case .recalled: self = .recalled(recipients: try f().decode(Int.self, forKey: .recipients))
        case .topologyApplied:
            self = .topologyApplied(
                version: try f().decode(Int.self, forKey: .version),
                neighbours: try f().decode(Int.self, forKey: .neighbours))
        case .imported: self = .imported(try c.decode(ImportReport.self, forKey: name))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Name.self)
        switch self {
        case .status(let r): try c.encode(r, forKey: .status)
        case .peers(let r): try c.encode(r, forKey: .peers)
        case .sent(let r): try c.encode(r, forKey: .sent)
        case .inbox(let r): try c.encode(r, forKey: .inbox)
        case .document(let r): try c.encode(r, forKey: .document)
        case .exported(let r): try c.encode(r, forKey: .exported)
        case .statusChanged(let changed):
            var f = c.nestedContainer(keyedBy: Field.self, forKey: .statusChanged)
            try f.encode(changed, forKey: .changed)
        case .tracking(let r): try c.encode(r, forKey: .tracking)
        case .sentList(let r): try c.encode(r, forKey: .sentList)
        case .queueChanged(let count):
            var f = c.nestedContainer(keyedBy: Field.self, forKey: .queueChanged)
            try f.encode(count, forKey: .count)
        case .recalled(let recipients):
            var f = c.nestedContainer(keyedBy: Field.self, forKey: .recalled)
            try f.encode(recipients, forKey: .recipients)
        case .topologyApplied(let version, let neighbours):
            var f = c.nestedContainer(keyedBy: Field.self, forKey: .topologyApplied)
            try f.encode(version, forKey: .version)
            try f.encode(neighbours, forKey: .neighbours)
        case .imported(let r): try c.encode(r, forKey: .imported)
        }
    }
}
