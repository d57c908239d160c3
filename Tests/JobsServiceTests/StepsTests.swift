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

/// A run executes every analysis of its job in order, each between its pre- and
/// post-processing, in one working directory; archives of every kind unpack safely. Real
/// agents and commands, on the local backend and the one-node Slurm cluster.
@Suite struct StepsTests {
    typealias S = JobsStack
    typealias E = ExecutionTests

    /// Creates and submits `job` (a JSON object); its id.
    static func submit(_ client: any TestClientProtocol, _ job: [String: Any]) async throws -> String {
        let body = String(decoding: try JSONSerialization.data(withJSONObject: job), as: UTF8.self)
        let created = try await client.execute(uri: "/alice/api/v2/jobs/", method: .post, headers: S.alice, body: ByteBuffer(string: body))
        try #require(created.status == .created, "\(String(buffer: created.body))")
        let id = try #require(try S.json(created)["id"] as? String)
        #expect(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/submit/", method: .post, headers: S.alice).status == .ok)
        return id
    }

    static func analysis(_ command: String, code: String = "user_included", version: String? = nil, inputs: [String] = [],
                         pre: (script: String?, command: String)? = nil, post: (script: String?, command: String)? = nil,
                         environment: [String: String] = [:]) -> [String: Any] {
        var analysis: [String: Any] = [
            "analysis": version.map { ["code": code, "version": $0] } ?? ["code": code],
            "command": command,
            "hardware": ["coreType": ["code": "standard"], "coresPerSlot": 1],
            "inputFiles": inputs.map { ["id": $0] },
            "envVars": environment,
        ]
        if let pre {
            analysis["preProcessScript"] = pre.script.map { ["id": $0] } ?? NSNull()
            analysis["preProcessScriptCommand"] = pre.command
        }
        if let post {
            analysis["postProcessScript"] = post.script.map { ["id": $0] } ?? NSNull()
            analysis["postProcessScriptCommand"] = post.command
        }
        return analysis
    }

    @Test(arguments: ExecutionTests.Backend.allCases)
    func everyAnalysisRunsInOrderBetweenItsPreAndPostProcessing(backend: ExecutionTests.Backend) async throws {
        try await E.run(backend) { client, stack, _ in
            let prepare = try await stack.upload("#!/bin/sh\necho \"pre $1 $STEP\" >> order.txt\n", name: "prepare.sh")
            let collect = try await stack.upload("#!/bin/sh\necho post2 >> order.txt\nls first.out >> order.txt\n", name: "collect.sh")
            let id = try await Self.submit(client, [
                "name": "two analyses",
                "jobanalyses": [
                    Self.analysis(
                        "echo cmd1 $STEP >> order.txt && echo made > first.out", pre: (prepare, "./prepare.sh one"),
                        post: (nil, "echo post1 >> order.txt"), environment: ["STEP": "first"]),
                    // The second sees the first's files; its script runs without a command.
                    Self.analysis(
                        "cat first.out >> order.txt && echo cmd2 $STEP >> order.txt", code: "openfoam",
                        pre: (prepare, ""), post: (collect, ""), environment: ["STEP": "second"]),
                ],
            ])
            let history = try await E.waitFor("Completed", id, stack)
            #expect(history.first?.statusReason == "Completed successfully")
            let outputs = try await E.outputs(id, stack)
            #expect(try await E.contents(outputs["order.txt"], stack) == """
                pre one first
                cmd1 first
                post1
                pre  second
                made
                cmd2 second
                post2
                first.out

                """)
            // One log, each step under a line that names it.
            let log = try await E.contents(outputs["process_output.log"], stack)
            let headers = log.split(separator: "\n").filter { $0.hasPrefix("=====") }.map { $0.split(separator: ":")[0] }
            #expect(headers == [
                "===== Pre-processing of analysis 1", "===== Command of analysis 1", "===== Post-processing of analysis 1",
                "===== Pre-processing of analysis 2", "===== Command of analysis 2", "===== Post-processing of analysis 2",
            ])
            let job = try S.json(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/", method: .get, headers: S.alice))
            let analyses = try #require(job["jobanalyses"] as? [[String: Any]])
            #expect((analyses[0]["preProcessScript"] as? [String: Any])?["name"] as? String == "prepare.sh")
            #expect((analyses[1]["analysis"] as? [String: Any])?["version"] as? String == "v1912", "the newest version")
        }
    }

    @Test func aFailingStepEndsTheRunWithItsNameAndKeepsWhatWasMade() async throws {
        try await E.run(.local) { client, stack, _ in
            let id = try await Self.submit(client, [
                "name": "fails",
                "jobanalyses": [
                    Self.analysis("echo first > first.out"),
                    Self.analysis("echo never > never.out", pre: (nil, "echo trying; exit 3"), post: (nil, "echo never > post.out")),
                ],
            ])
            let history = try await E.waitFor("Completed", id, stack)
            #expect(history.first?.statusReason == "Pre-processing of analysis 2 exited with code 3")
            let outputs = try await E.outputs(id, stack)
            #expect(Set(outputs.keys) == ["first.out", "process_output.log"])
            #expect(try await E.contents(outputs["process_output.log"], stack).contains("trying\n"))
            let run = try S.json(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/runs/1/", method: .get, headers: S.alice))
            #expect(run["exitCode"] as? Int == 3)
            #expect(run["status"] as? String == "Completed")
            #expect(run["statusReason"] as? String == "Pre-processing of analysis 2 exited with code 3")
        }
    }

    @Test(arguments: ExecutionTests.Backend.allCases)
    func tarArchivesUnpackAndUnsafeOnesEndTheRun(backend: ExecutionTests.Backend) async throws {
        try await E.run(backend) { client, stack, work in
            let gzipped = try await stack.upload(try TestTar.make([.file("case/a.txt", "from tgz\n")], gzipped: true), name: "case.tar.gz")
            let plain = try await stack.upload(try TestTar.make([.file("more/b.txt", "from tar\n")]), name: "more.tar")
            let kept = try await stack.upload(try TestTar.make([.file("x.txt", "x")]), name: "kept.tar")
            let fine = try await Self.submit(client, [
                "name": "tars",
                "jobanalyses": [Self.analysis("cat case/a.txt more/b.txt > both.txt && ls kept.tar >> both.txt", inputs: [gzipped, plain])
                    .merging(["inputFiles": [["id": gzipped], ["id": plain], ["id": kept, "decompress": false]]]) { $1 }],
            ])
            #expect(try await E.waitFor("Completed", fine, stack).first?.statusReason == "Completed successfully")
            #expect(try await E.contents(try await E.outputs(fine, stack)["both.txt"], stack) == "from tgz\nfrom tar\nkept.tar\n")

            let name = "escape-\(UUID().uuidString).txt"
            let cases: [(TestTar.Entry, String)] = [
                (.file("../\(name)", "escaped"), "has an entry that would land outside the working directory"),
                (.file("/tmp/\(name)", "escaped"), "has an entry that would land outside the working directory"),
                (.symlink("passwd", target: "/etc/passwd"), "holds a link or a special file; only files and folders are unpacked"),
            ]
            for (entry, reason) in cases {
                let evil = try await stack.upload(try TestTar.make([.file("ok.txt", "fine"), entry], gzipped: true), name: "evil.tgz")
                let id = try await Self.submit(client, ["name": "evil", "jobanalyses": [Self.analysis("touch ran.txt", inputs: [evil])]])
                let history = try await E.waitFor("Completed", id, stack)
                #expect(history.first?.statusReason == "Could not start: input file 'evil.tgz' \(reason)")
                #expect(try await E.outputs(id, stack).isEmpty)
            }
            #expect(!FileManager.default.fileExists(atPath: work + "/" + name) && !FileManager.default.fileExists(atPath: "/tmp/" + name))
        }
    }

    /// A decompression bomb: more than the site allows (JOBS_MAX_UNPACKED_BYTES, here 3 MB).
    @Test func aDecompressionBombEndsTheRunBeforeFillingTheDisk() async throws {
        try await E.run(.local, maxUnpackedBytes: 3_000_000) { client, stack, _ in
            let big = String(repeating: "0", count: 2_000_000)
            let bomb = try await stack.upload(try TestTar.make([.file("a.dat", big), .file("b.dat", big)], gzipped: true), name: "bomb.tar.gz")
            let id = try await Self.submit(client, ["name": "bomb", "jobanalyses": [Self.analysis("touch ran.txt", inputs: [bomb])]])
            let history = try await E.waitFor("Completed", id, stack)
            #expect(history.first?.statusReason?.hasPrefix("Could not start: input file 'bomb.tar.gz' unpacks to more than 3000000 bytes") == true)
        }
    }
}
