import Foundation
import SimforgeModels
import Testing
@testable import JobsService

/// The parts of a design of experiments that are pure: generators, parameter files, templates.
@Suite struct DOEPlanTests {
    static func generator(_ type: String, _ settings: [(String, JSONValue)]) throws -> ValueGenerator {
        try ValueGenerator(type: type, settings: .object(settings), limit: 10_000)
    }

    @Test func fixedRangeIncludesItsEndsAndTidiesTheSteps() throws {
        #expect(try Self.generator("FixedRange", [("minvalue", .number("1")), ("maxvalue", .number("10")), ("increment", .number("1"))]).grid
            == Array(1...10).map(Double.init))
        #expect(try Self.generator("FixedRange", [("minvalue", .number("0")), ("maxvalue", .number("0.3")), ("increment", .number("0.1"))]).grid
            == [0, 0.1, 0.2, 0.3])
        #expect(try Self.generator("FixedRange", [("minvalue", .number("5")), ("maxvalue", .number("1")), ("increment", .number("-2"))]).grid
            == [5, 3, 1])
        #expect(try Self.generator("Linspace", [("minvalue", .number("0")), ("maxvalue", .number("1")), ("count", .number("5"))]).grid
            == [0, 0.25, 0.5, 0.75, 1])
    }

    @Test(arguments: [
        ("FixedRange", [("minvalue", JSONValue.number("1")), ("maxvalue", .number("10")), ("increment", .number("0"))]),
        ("FixedRange", [("minvalue", .number("1")), ("maxvalue", .number("10")), ("increment", .number("-1"))]),
        ("FixedRange", [("minvalue", .number("0")), ("maxvalue", .number("1e9")), ("increment", .number("1"))]),
        ("FixedRange", [("minvalue", .number("1")), ("maxvalue", .string("ten")), ("increment", .number("1"))]),
        ("FixedRange", [("minvalue", .number("1")), ("increment", .number("1"))]),
        ("Linspace", [("minvalue", .number("0")), ("maxvalue", .number("1")), ("count", .number("0"))]),
        ("Uniform", [("minvalue", .number("2")), ("maxvalue", .number("1"))]),
        ("Normal", [("mean", .number("0")), ("stddev", .number("-1"))]),
        ("Triangular", [("minvalue", .number("0")), ("mode", .number("5")), ("maxvalue", .number("1"))]),
        ("Sobol", [("minvalue", .number("0")), ("maxvalue", .number("1"))]),
    ])
    func malformedGeneratorsAreRefusedWithAReason(type: String, settings: [(String, JSONValue)]) {
        #expect(throws: ValueGenerator.Problem.self) { try Self.generator(type, settings) }
    }

    @Test func randomGeneratorsFollowTheirSeedAndStayInRange() throws {
        let uniform = try Self.generator("Uniform", [("minvalue", .number("2")), ("maxvalue", .number("3"))])
        let triangular = try Self.generator("Triangular", [("minvalue", .number("0")), ("mode", .number("1")), ("maxvalue", .number("4"))])
        let normal = try Self.generator("Normal", [("mean", .number("10")), ("stddev", .number("2"))])
        var first = SeededRandom(seed: 42)
        var again = SeededRandom(seed: 42)
        let samples = (0..<2000).map { _ in (uniform.sample(&first), triangular.sample(&first), normal.sample(&first)) }
        let repeated = (0..<2000).map { _ in (uniform.sample(&again), triangular.sample(&again), normal.sample(&again)) }
        #expect(samples.map(\.0) == repeated.map(\.0) && samples.map(\.2) == repeated.map(\.2), "the same seed, the same values")
        #expect(samples.allSatisfy { (2..<3).contains($0.0) && (0...4).contains($0.1) })
        let mean = samples.map(\.2).reduce(0, +) / Double(samples.count)
        #expect(abs(mean - 10) < 0.3)
        #expect(ValueGenerator.display(20) == "20" && ValueGenerator.display(3.5) == "3.5")
    }

    @Test func aParameterFileIsReadAsRescaleUsersWriteIt() throws {
        let text = "\u{FEFF}x_velocity, y_velocity,label\r\n11,2,\"a, b\"\r\n\r\n12,4,\"say \"\"hi\"\"\"\r\n13, 6 ,plain\r\n"
        let file = try ParamFile(parsing: text)
        #expect(file.names == ["x_velocity", "y_velocity", "label"])
        #expect(file.rows == [["11", "2", "a, b"], ["12", "4", "say \"hi\""], ["13", "6", "plain"]])
        let run = try #require(file.runs.first)
        #expect(run[0] == RunVariable(name: "x_velocity", value: 11, displayValue: "11"))
        #expect(run[2] == RunVariable(name: "label", value: nil, displayValue: "a, b"))
    }

    @Test(arguments: [
        ("a,b\n1,2\n3\n", "Line 3 has 1 values; the header names 2 variables."),
        ("a,b\n1,2,3\n", "Line 2 has 3 values; the header names 2 variables."),
        ("a,a\n1,2\n", "Line 1: the variable 'a' is named twice."),
        ("a,2b\n1,2\n", "Line 1: column 2 ('2b') is not a variable name (letters, digits, _)."),
        ("a,b\n\"1,2\n", "Line 2: a quote is never closed."),
        ("a,b\n", "The file has no line after its header: no run."),
        ("\n\n", "The file is empty: its first line must name the variables."),
    ])
    func aMalformedParameterFileNamesItsLine(text: String, message: String) {
        #expect(throws: ParamFile.Problem(message: message)) { try ParamFile(parsing: text) }
    }

    @Test func templatesGetTheRunsValues() throws {
        let variables = [RunVariable(name: "x", value: 1.49, displayValue: "1.49"), RunVariable(name: "label", value: nil, displayValue: "case 1a")]
        let template = "x=${x} r=${x?string(\"0.0\")} f=${ x?string(\"0.00##\") } e=${x?string(\"0.0E0\")} $HOME ${label}"
        #expect(try TemplateText.render(template, variables: variables) == "x=1.49 r=1.5 f=1.49 e=1.5E0 $HOME case 1a")
        #expect(TemplateText.placeholders(in: template) == ["x", "label"])
        #expect(throws: TemplateText.UnknownPlaceholder(name: "y")) { try TemplateText.render("${y}", variables: variables) }
        #expect(TemplateText.format(0.9, pattern: "0") == "1" && TemplateText.format(9810, pattern: "0.00##") == "9810.00")
    }
}
