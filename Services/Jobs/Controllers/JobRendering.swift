import SimforgeModels

/// A job as clients read it: every File it refers to (inputs, scripts, templates, the
/// parameter file) gets its download link on the caller's address.
enum JobRendering {
    static func render(_ job: Job, apiBase: String) -> Job {
        func linked(_ file: File?) -> File? {
            guard var file else { return nil }
            file.downloadUrl = apiBase + "files/\(file.id)/contents/"
            return file
        }
        func linked(_ reference: Job.FileReference?) -> Job.FileReference? {
            reference.map { Job.FileReference(id: $0.id, file: linked($0.file)) }
        }
        var job = job
        job.paramFile = linked(job.paramFile)
        job.caseFile = linked(job.caseFile)
        for index in job.jobanalyses.indices {
            var analysis = job.jobanalyses[index]
            analysis.inputFiles = analysis.inputFiles.map { Job.InputFile(id: $0.id, decompress: $0.decompress, file: linked($0.file)) }
            analysis.preProcessScript = linked(analysis.preProcessScript)
            analysis.postProcessScript = linked(analysis.postProcessScript)
            analysis.templateTasks = analysis.templateTasks.map {
                Job.TemplateTask(templateFile: linked($0.templateFile) ?? $0.templateFile, processedFilename: $0.processedFilename)
            }
            job.jobanalyses[index] = analysis
        }
        return job
    }
}
