extension Job: JSONWritable {
    public func write(to json: inout JSONWriter) {
        json.object { json in
            json.key("description")
            json.string(self.description)
            json.fieldIfPresent("id", self.id)
            json.key("isLowPriority")
            json.bool(self.isLowPriority)
            json.key("jobanalyses")
            json.array(self.jobanalyses) { json, analysis in analysis.write(to: &json) }
            json.key("name")
            json.string(self.name)
            json.fieldIfPresent("owner", self.owner)
            json.fieldIfPresent("projectId", self.projectId)
        }
    }
}

extension Job.JobAnalysis: JSONWritable {
    public func write(to json: inout JSONWriter) {
        json.object { json in
            json.key("analysis")
            json.object { json in
                json.key("code")
                json.string(self.analysis.code)
                json.fieldIfPresent("version", self.analysis.version)
            }
            json.key("command")
            json.string(self.command)
            json.key("envVars")
            json.object { json in
                for name in self.envVars.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                    json.key(name)
                    json.string(self.envVars[name]!)
                }
            }
            json.key("hardware")
            self.hardware.write(to: &json)
            json.key("inputFiles")
            json.array(self.inputFiles) { json, input in input.write(to: &json) }
            json.fieldIfPresent("postProcessScript", self.postProcessScript)
            json.key("postProcessScriptCommand")
            json.string(self.postProcessScriptCommand)
            json.fieldIfPresent("preProcessScript", self.preProcessScript)
            json.key("preProcessScriptCommand")
            json.string(self.preProcessScriptCommand)
            json.key("useMpi")
            json.bool(self.useMpi)
        }
    }
}

extension Job.Hardware: JSONWritable {
    public func write(to json: inout JSONWriter) {
        json.object { json in
            if let summary = self.coreSummary {
                json.key("coreSummary")
                json.object { json in
                    json.key("memoryPerNode")
                    json.int(summary.memoryPerNode)
                    json.key("numberOfNodes")
                    json.int(summary.numberOfNodes)
                    json.key("storagePerNode")
                    json.int(summary.storagePerNode)
                }
            }
            json.key("coreType")
            json.string(self.coreType)
            json.key("coresPerSlot")
            json.int(self.coresPerSlot)
            json.key("slots")
            json.int(self.slots)
            if let walltime = self.walltime {
                json.key("walltime")
                json.int(walltime)
            }
        }
    }
}

extension Job.InputFile: JSONWritable {
    /// The File's fields and the input's own (`decompress`, `id`) in one object, as
    /// `encode(to:)` flattens them.
    public func write(to json: inout JSONWriter) {
        json.object { json in
            guard let file = self.file else {
                json.key("decompress")
                json.bool(self.decompress)
                json.key("id")
                json.string(self.id)
                return
            }
            json.key("dateUploaded")
            json.date(file.dateUploaded)
            json.key("decompress")
            json.bool(self.decompress)
            json.key("decryptedSize")
            json.int(file.decryptedSize)
            json.key("downloadUrl")
            json.string(file.downloadUrl)
            json.key("encodedEncryptionKey")
            json.string(file.encodedEncryptionKey)
            json.key("id")
            json.string(self.id)
            json.key("isUploaded")
            json.bool(file.isUploaded)
            json.fieldIfPresent("md5", file.md5)
            json.key("name")
            json.string(file.name)
            json.key("owner")
            json.string(file.owner)
            json.key("path")
            json.string(file.path)
            json.key("relativePath")
            json.string(file.relativePath)
            json.key("sharedWith")
            json.array(file.sharedWith) { json, user in json.string(user) }
            json.key("typeId")
            json.int(file.typeId)
            json.key("viewInBrowser")
            json.bool(file.viewInBrowser)
        }
    }
}
