import ArgumentParser
import Envelope
import Spool
import Testing
@testable import LienThongCLI

/// Typed options: the parser refuses a wrong value naming the valid ones, and `--help` lists them.
@Suite struct CLIArgumentsTests {
    func parseFailure(_ args: [String]) -> String? {
        do {
            _ = try LienThongCommand.parseAsRoot(args)
            return nil
        } catch {
            return LienThongCommand.message(for: error)
        }
    }

    @Test func urgencyIsTypedListedAndTakesTheVietnameseName() throws {
        let help = LienThongCommand.helpMessage(for: SendCommand.self)
        for u in Urgency.allCases {
            #expect(help.contains(u.cliName) && help.contains(u.displayName), "send --help lacks \(u.cliName)")
        }
        let send = ["send", "--home", "/nonexistent", "--to", "000.00.00.H27", "--subject", "Báo cáo"]
        let wrong = try #require(parseFailure(send + ["--urgency", "gấp"]))
        #expect(wrong.contains("gấp") && wrong.contains("hoa-toc-hen-gio"), "\(wrong)")
        #expect(parseFailure(send + ["--urgency", "Hỏa tốc"]) == nil)
        #expect(try DocumentOptions.parse(["--urgency", "Thượng khẩn"]).urgency == .thuongKhan)
    }

    @Test func anUrgencyGivenWithEdXMLIsNoticedEvenWhenItIsTheDefault() throws {
        #expect(try DocumentOptions.parse([]).givenForEdXML == false)
        #expect(try DocumentOptions.parse(["--urgency", "thuong"]).givenForEdXML)
    }

    @Test func queueStateIsTyped() throws {
        let help = LienThongCommand.helpMessage(for: QueueCommand.List.self)
        for state in QueueStateFilter.allCases { #expect(help.contains(state.rawValue)) }
        let wrong = try #require(parseFailure(["queue", "list", "--home", "/nonexistent", "--state", "sent"]))
        #expect(wrong.contains("sent") && wrong.contains("quarantined") && wrong.contains("partial"), "\(wrong)")
        #expect(QueueStateFilter.partial.queueState == nil)
        #expect(QueueStateFilter.allCases.compactMap(\.queueState) == QueueState.allCases)
    }
}

/// `--help` at 80 columns: example lines fit, so the parser prints them as written, never broken
/// in the middle of a command (prose is one line per paragraph and wrapped once, by the parser).
@Suite struct CLIHelpTests {
    static func commands(_ root: any ParsableCommand.Type) -> [any ParsableCommand.Type] {
        [root] + root.configuration.subcommands.flatMap { commands($0) }
    }

    @Test func examplesFitAndArePrintedAsWritten() {
        var examples = 0
        for command in Self.commands(LienThongCommand.self) {
            let help = LienThongCommand.helpMessage(for: command, columns: 80).split(separator: "\n").map(String.init)
            for line in command.configuration.discussion.split(separator: "\n") where line.hasPrefix("  ") {
                examples += 1
                #expect(line.count <= 80, "\(command._commandName): \(line)")
                #expect(help.contains(String(line)), "\(command._commandName) --help breaks: \(line)")
            }
        }
        #expect(examples >= 10)
    }
}
