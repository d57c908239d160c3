import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SimforgeModels
import SimforgeServer
import SimforgeTestSupport
import Testing
@testable import JobsService

/// Designs of experiments through the platform: a job's runs from its variables or its
/// parameter file, each with its own working directory, template, environment, outputs and
/// status; at most `slots` at once; stopped one by one. Real agents on the local backend and
/// as a Slurm job array.
@Suite struct DOETests {
    typealias S = JobsStack
    typealias E = ExecutionTests

    static func fixedRange(_ name: String, _ min: Int, _ max: Int, _ increment: Int = 1) -> [String: Any] {
        ["name": name, "variableType": "Param", "valueGeneratorType": "FixedRange",
         "valueGeneratorSettings": ["minvalue": min, "maxvalue": max, "increment": increment]]
    }

    static func doe(_ command: String, variables: [[String: Any]] = [], paramFile: String? = nil, template: String? = nil,
                    slots: Int = 10) -> [String: Any] {
        var analysis: [String: Any] = [
            "analysis": ["code": "user_included"], "command": command,
            "hardware": ["coreType": ["code": "standard"], "coresPerSlot": 1, "slots": slots],
        ]
        if let template { analysis["templateTasks"] = [["templateFile": ["id": template], "processedFilename": "run.sh"]] }
        var job: [String: Any] = ["name": "sweep", "jobvariables": variables, "jobanalyses": [analysis]]
        if let paramFile { job["paramFile"] = ["id": paramFile] }
        return job
    }

    static func runs(_ client: any TestClientProtocol, _ id: String) async throws -> [[String: Any]] {
        let page = try S.json(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/runs/?page_size=1000", method: .get, headers: S.alice))
        return try #require(page["results"] as? [[String: Any]])
    }

    /// Each run's output `name` as text, by run id.
    static func outputs(_ id: String, named name: String, runs: Int, _ stack: JobsStack) async throws -> [String: String] {
        var texts: [String: String] = [:]
        for run in 1...runs {
            let response = try await stack.files.execute(
                uri: "/alice/api/v2/jobs/\(id)/runs/\(run)/files/?search=\(name)", method: .get, headers: S.alice)
            try #require(response.status == .ok, "outputs of \(id) run \(run): \(response.status) \(String(buffer: response.body))")
            let page = try JSONDecoder.simforge().decode(Page<File>.self, from: Data(buffer: response.body))
            if let file = page.results.first(where: { $0.relativePath == name }) {
                #expect(file.path.hasSuffix("/output/job_\(id)/run\(run)/\(name)"))
                texts["\(run)"] = try await E.contents(file, stack)
            }
        }
        return texts
    }

    @Test(arguments: ExecutionTests.Backend.allCases)
    func aFixedRangeSweepRunsOnceForEachValueWithItsTemplate(backend: ExecutionTests.Backend) async throws {
        try await E.run(backend) { client, stack, _ in
            let template = try await stack.upload("#!/bin/sh\necho \"index ${index} env $index $SIMFORGE_VAR_index run $SIMFORGE_RUN_ID\" > value.txt\n", name: "run.tmpl")
            let job = Self.doe("./run.sh", variables: [Self.fixedRange("index", 1, 10)], template: template)
            let id = try await StepsTests.submit(client, job)
            let history = try await E.waitFor("Completed", id, stack, seconds: 120)
            #expect(history.first?.statusReason == "10 of 10 runs succeeded")
            let runs = try await Self.runs(client, id)
            #expect(runs.count == 10)
            #expect(runs.map { $0["displayOrder"] as? Int } == Array(1...10))
            #expect(runs.allSatisfy { $0["status"] as? String == "Completed" && $0["exitCode"] as? Int == 0 })
            let variables = runs.compactMap { ($0["variables"] as? [[String: Any]])?.first }
            #expect(variables.map { $0["displayValue"] as? String } == (1...10).map { "\($0)" })
            let values = try await Self.outputs(id, named: "value.txt", runs: 10, stack)
            #expect(values.count == 10)
            for run in 1...10 {
                #expect(values["\(run)"] == "index \(run) env \(run) \(run) run \(run)\n")
            }
            let read = try S.json(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/", method: .get, headers: S.alice))
            #expect(read["expectedRuns"] as? Int == 10)
        }
    }

    @Test func twoVariablesMakeTheirProductAndAParameterFileItsRows() async throws {
        try await E.run(.local) { client, stack, _ in
            let product = try await StepsTests.submit(client, Self.doe(
                "echo $a-$b > pair.txt", variables: [Self.fixedRange("a", 1, 3), Self.fixedRange("b", 10, 20, 10)]))
            #expect(try await E.waitFor("Completed", product, stack, seconds: 120).first?.statusReason == "6 of 6 runs succeeded")
            let pairs = try await Self.outputs(product, named: "pair.txt", runs: 6, stack)
            #expect(Set(pairs.values) == ["1-10\n", "1-20\n", "2-10\n", "2-20\n", "3-10\n", "3-20\n"])
            #expect(pairs["2"] == "1-20\n", "the last variable varies fastest")

            let csv = try await stack.upload("\u{FEFF}speed,label\r\n1.5,slow\r\n\"2,5\",\"mid, dry\"\r\n\r\n30,fast\r\n", name: "cases.csv")
            let rows = try await StepsTests.submit(client, Self.doe("echo \"$speed|$label\" > row.txt", paramFile: csv))
            #expect(try await E.waitFor("Completed", rows, stack, seconds: 60).first?.statusReason == "3 of 3 runs succeeded")
            #expect(try await Self.outputs(rows, named: "row.txt", runs: 3, stack) == ["1": "1.5|slow\n", "2": "2,5|mid, dry\n", "3": "30|fast\n"])
            let job = try S.json(try await client.execute(uri: "/alice/api/v2/jobs/\(rows)/", method: .get, headers: S.alice))
            #expect((job["jobvariables"] as? [[String: Any]])?.map { $0["name"] as? String } == ["speed", "label"])
        }
    }

    /// slots: 2 on a backend with 4 cores: never more than 2 runs executing at once.
    @Test(arguments: ExecutionTests.Backend.allCases)
    func slotsLimitTheRunsExecutingAtOnce(backend: ExecutionTests.Backend) async throws {
        try await E.run(backend) { client, stack, _ in
            let command = "date +%s.%N > start.txt && sleep 1 && date +%s.%N > end.txt"
            let id = try await StepsTests.submit(client, Self.doe(command, variables: [Self.fixedRange("i", 1, 6)], slots: 2))
            #expect(try await E.waitFor("Completed", id, stack, seconds: 120).first?.statusReason == "6 of 6 runs succeeded")
            let starts = try await Self.outputs(id, named: "start.txt", runs: 6, stack)
            let ends = try await Self.outputs(id, named: "end.txt", runs: 6, stack)
            let intervals = (1...6).compactMap { run -> (Double, Double)? in
                guard let start = starts["\(run)"].flatMap({ Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }),
                      let end = ends["\(run)"].flatMap({ Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) else { return nil }
                return (start, end)
            }
            #expect(intervals.count == 6)
            let busiest = intervals.map { moment in intervals.filter { $0.0 <= moment.0 && moment.0 < $0.1 }.count }.max()
            #expect(busiest == 2, "\(intervals)")
        }
    }

    @Test func oneRunStopsAloneAndAFailingRunDoesNotStopTheOthers() async throws {
        // Run 2 must still run when the test stops it, however loaded the machine.
        try await E.run(.local, walltimeLimit: E.solverWalltimeLimit) { client, stack, _ in
            // Run 2 sleeps until stopped, run 3 fails, the others succeed.
            let command = #"if [ "$i" = 2 ]; then sleep 600; elif [ "$i" = 3 ]; then exit 7; else echo ok > ok.txt; fi"#
            let id = try await StepsTests.submit(client, Self.doe(command, variables: [Self.fixedRange("i", 1, 4)], slots: 4))
            var second: [String: Any] = [:]
            for _ in 0..<200 {
                second = try S.json(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/runs/2/", method: .get, headers: S.alice))
                if second["status"] as? String == "Executing" { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(second["status"] as? String == "Executing")
            let stopped = try await client.execute(uri: "/alice/api/v2/jobs/\(id)/runs/2/stop/", method: .post, headers: S.alice)
            #expect(stopped.status == .accepted)
            let history = try await E.waitFor("Completed", id, stack, seconds: 60)
            #expect(history.first?.statusReason == "2 of 4 runs succeeded")
            #expect(!history.map(\.status).contains("Stopping"), "the job itself was not stopped")
            let runs = try await Self.runs(client, id)
            #expect(runs.map { $0["statusReason"] as? String } == [
                "Completed successfully", "Stopped by user", "Command exited with code 7", "Completed successfully",
            ])
        }
    }

    @Test func malformedSweepsAreRefusedNamingTheField() async throws {
        try await E.run(.local) { client, stack, _ in
            let template = try await stack.upload("value ${nothing}\n", name: "bad.tmpl")
            let ragged = try await stack.upload("a,b\n1,2\n3\n", name: "ragged.csv")
            let cases: [([String: Any], String)] = [
                (Self.doe("true", variables: [["name": "x", "valueGeneratorType": "Sobol", "valueGeneratorSettings": [:]]]), "valueGeneratorType"),
                (Self.doe("true", variables: [Self.fixedRange("x", 1, 10, 0)]), "increment"),
                (Self.doe("true", variables: [Self.fixedRange("x", 10, 1, 1)]), "increment"),
                (Self.doe("true", variables: [Self.fixedRange("x", 1, 200), Self.fixedRange("y", 1, 200)]), "more than 10000 runs"),
                (Self.doe("true", paramFile: ragged), "Line 3 has 1 values; the header names 2 variables."),
                (Self.doe("./run.sh", variables: [Self.fixedRange("x", 1, 2)], template: template), "uses ${nothing}, which is not a variable of the job"),
                (Self.doe("true", variables: [["name": "u", "valueGeneratorType": "Uniform", "valueGeneratorSettings": ["minvalue": 0, "maxvalue": 1]]]),
                 "monteCarloIterations"),
            ]
            for (job, expected) in cases {
                let body = String(decoding: try JSONSerialization.data(withJSONObject: job), as: UTF8.self)
                let response = try await client.execute(uri: "/alice/api/v2/jobs/", method: .post, headers: S.alice, body: ByteBuffer(string: body))
                #expect(response.status == .badRequest, "\(expected)")
                #expect(String(buffer: response.body).contains(expected), "\(String(buffer: response.body)) lacks \(expected)")
            }
            let list = try S.json(try await client.execute(uri: "/alice/api/v2/jobs/", method: .get, headers: S.alice))
            #expect(list["count"] as? Int == 0)
        }
    }

    @Test func randomVariablesAreReproducibleFromTheRecordedSeed() async throws {
        try await E.run(.local) { client, stack, _ in
            let variable: [String: Any] = ["name": "v", "valueGeneratorType": "Normal", "valueGeneratorSettings": ["mean": 5, "stddev": 1]]
            var job = Self.doe("true", variables: [variable, Self.fixedRange("k", 1, 2)])
            job["monteCarloIterations"] = 3
            job["includeNominalRun"] = true
            let body = String(decoding: try JSONSerialization.data(withJSONObject: job), as: UTF8.self)
            let first = try S.json(try await client.execute(uri: "/alice/api/v2/jobs/", method: .post, headers: S.alice, body: ByteBuffer(string: body)))
            #expect(first["expectedRuns"] as? Int == 7, "2 grid values times 3 samples, and the nominal run")
            let seed = try #require(first["randomSeed"] as? Int)
            job["randomSeed"] = seed
            let again = try S.json(try await client.execute(
                uri: "/alice/api/v2/jobs/", method: .post, headers: S.alice,
                body: ByteBuffer(string: String(decoding: try JSONSerialization.data(withJSONObject: job), as: UTF8.self))))
            func values(_ id: Any?) async throws -> [String] {
                try await Self.runs(client, try #require(id as? String)).map { run in
                    ((run["variables"] as? [[String: Any]]) ?? []).map { "\($0["name"]!)=\($0["displayValue"]!)" }.joined(separator: ",")
                }
            }
            let firstValues = try await values(first["id"])
            #expect(firstValues == (try await values(again["id"])))
            #expect(firstValues.first == "v=5,k=1.5", "the nominal run first: the mean, the middle of the range")
        }
    }
}
