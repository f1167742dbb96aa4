import Envelope
import Foundation
import Spool

/// What the desk says to a clerk, in Vietnamese: messages for the node's error codes, names of
/// statuses and urgencies, dates.
enum DeskText {
    /// The clerk's message for a node error code; the English message follows for the operator.
    static func vietnamese(code: String, english: String) -> String {
        let known: [String: String] = [
            "SEND-NO-RECIPIENT": "Hãy chọn ít nhất một cơ quan nhận.",
            "SEND-UNKNOWN-RECIPIENT": "Cơ quan nhận không có trong danh sách cơ quan của mạng.",
            "SEND-URGENCY": "Độ khẩn không hợp lệ.",
            "SEND-SECRECY": "Độ mật không hợp lệ.",
            "SEND-EXPIRY": "Thời hạn lưu chuyển không hợp lệ.",
            "SEND-NO-FILE": "Hãy đính kèm ít nhất một tệp.",
            "SEND-FILE": "Không đọc được tệp đính kèm.",
            "SEND-EDXML-ARGS": "Khi gửi gói edXML, không nhập thêm người nhận, trích yếu hay tệp.",
            "EDXML-DUPLICATE": "Văn bản này đã được gửi trước đây (trùng mã văn bản).",
            "EDXML-NO-RECIPIENT": "Gói edXML không có cơ quan nhận nào trong mạng.",
            "EDXML-UNKNOWN-ORGAN": "Gói edXML có cơ quan nhận không có trong mạng.",
            "EDXML-NOT-FROM-HERE": "Gói edXML không phải do cơ quan này ban hành.",
            "EDXML-NOT-DOCUMENT": "Tệp không phải là gói văn bản edXML.",
            "INBOX-NOT-FOUND": "Không tìm thấy văn bản này.",
            "INBOX-AMBIGUOUS": "Mã văn bản chưa đủ để xác định một văn bản.",
            "INBOX-STATUS": "Trạng thái không hợp lệ.",
            "INBOX-REASON": "Từ chối văn bản cần ghi rõ lý do.",
            "INBOX-RECALLED": "Văn bản đã bị thu hồi; nội dung không còn.",
            "INBOX-ARCHIVED":
                """
            Văn bản đã quá thời hạn lưu giữ; \
            nội dung đã chuyển vào kho lưu trữ, hãy liên hệ quản trị.
            """,
            "INBOX-RECALL-STATE": "Văn bản này không có yêu cầu thu hồi đang chờ trả lời.",
            "TRACK-NOT-FOUND": "Không tìm thấy văn bản đã gửi này.",
            "TRACK-AMBIGUOUS": "Mã văn bản chưa đủ để xác định một văn bản.",
            "RECALL-REASON": "Thu hồi văn bản cần ghi rõ lý do.",
            "RECALL-DONE": "Văn bản đã được thu hồi trước đó.",
            "QUEUE-SELECT": "Hãy chọn mục trong hàng đợi.",
            "QUEUE-REASON": "Thao tác này cần ghi rõ lý do.",
            "QUEUE-NOT-FOUND": "Không tìm thấy mục này trong hàng đợi.",
            "SPOOL-DISK-FULL": "Ổ đĩa của máy chủ đã đầy; hãy báo cán bộ quản trị.",
            "SEND-DISK-FULL":
                """
            Ổ đĩa của máy chủ sắp đầy nên chưa gửi được; \
            văn bản đến vẫn nhận. Hãy báo cán bộ quản trị.
            """,
        ]
        if let text = known[code] { return text }
        if code.hasPrefix("EDXML-") { return "Gói edXML không hợp lệ (mã \(code))." }
        return "Không thực hiện được yêu cầu (mã \(code)); hãy báo cán bộ quản trị."
    }

    static func status(_ code: String) -> String {
        ReceiptStatus(rawValue: code)?.displayName ?? code
    }

    static func urgency(_ cliName: String) -> Urgency? {
        Urgency.allCases.first { $0.cliName == cliName }
    }

    /// `05/12/2026 14:03` in Vietnam's time (UTC+7).
    static func date(_ ms: Int64) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "vi_VN")
        f.timeZone = TimeZone(secondsFromGMT: 7 * 3600)
        f.dateFormat = "dd/MM/yyyy HH:mm"
        return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    /// `2026-12-31` as a clerk writes it: `31/12/2026` (anything else as it is).
    static func day(_ iso: String) -> String {
        let p = iso.prefix(10).split(separator: "-")
        return p.count == 3 && p[0].count == 4 ? "\(p[2])/\(p[1])/\(p[0])" : iso
    }

    /// `3 giờ 5 phút` for an age.
    static func age(_ ms: Int64) -> String {
        let minutes = max(0, ms) / 60_000
        if minutes < 1 { return "dưới 1 phút" }
        if minutes < 60 { return "\(minutes) phút" }
        let hours = minutes / 60
        if hours < 48 { return "\(hours) giờ \(minutes % 60) phút" }
        return "\(hours / 24) ngày"
    }

    static func bytes(_ n: UInt64) -> String {
        if n < 1024 { return "\(n) B" }
        if n < 1 << 20 { return String(format: "%.1f KB", Double(n) / 1024) }
        return String(format: "%.1f MB", Double(n) / 1_048_576)
    }
}
