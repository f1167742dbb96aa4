import Testing

@testable import Desk

struct DeskServiceTests {
    @Test func listenAddressesAreParsedOrRefusedClearly() throws {
        #expect(try DeskService.parse("127.0.0.1:8470")! == ("127.0.0.1", 8470))
        #expect(try DeskService.parse("[::1]:80")! == ("::1", 80))
        #expect(try DeskService.parse("off") == nil)
        for bad in ["8470", "127.0.0.1:", ":80", "h:70000", "h:x"] {
            #expect(throws: DeskError.self, "\(bad)") { _ = try DeskService.parse(bad) }
        }
    }

    @Test func formFieldsDecodePercentAndPlus() {
        let f = FormFields("name=v%C4%83n+th%C6%B0&to=a&to=b&empty=")
        #expect(f["name"] == "văn thư")
        #expect(f.all("to") == ["a", "b"])
        #expect(f["empty"] == "")
        #expect(f["missing"] == nil)
    }

    @Test func errorsMapToStatusesAndVietnamese() {
        let (status, code, _, vi) = DeskApp.describe(DeskError(.throttled, "slow down", vi: "Chậm lại."))
        #expect(status.code == 429 && code == "DESK-THROTTLED" && vi == "Chậm lại.")
        #expect(DeskText.vietnamese(code: "INBOX-REASON", english: "") == "Từ chối văn bản cần ghi rõ lý do.")
        #expect(DeskText.vietnamese(code: "EDXML-XYZ", english: "").contains("edXML"))
    }
}
