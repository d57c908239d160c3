import SimforgeModels
import SimforgeServer

/// The parts of the Rescale job model Simforge does not act on yet. A job that asks for one
/// of them (anything but the field's empty or default value, which clients echo back) is
/// refused with a 400 naming the field: nothing may "complete successfully" without doing
/// what it asked. Keys outside the job model stay tolerated (ignored).
enum UnsupportedFields {
    /// Problems of the job's own fields.
    static func problems(in job: Job) -> [String: FieldErrors] {
        var problems = Problems()
        problems.refuse("caseFile", if: job.caseFile != nil, "case files")
        problems.refuse("optimizer", if: job.optimizer != nil, "optimization jobs")
        problems.refuse("remoteVizConfig", if: job.remoteVizConfig != nil, "remote visualization")
        problems.refuse("isTemplateDryRun", if: job.isTemplateDryRun, "template dry runs")
        problems.refuse("archiveFilters", if: !job.archiveFilters.isEmpty, "archive filters")
        problems.refuse(
            "resourceFilters", if: !job.resourceFilters.isEmpty && job.resourceFilters != Job.ResourceFilter.defaults,
            "output filters other than Rescale's defaults (every file a run creates or changes is kept)")
        return problems.fields
    }

    /// Problems of one job analysis's fields.
    static func problems(in analysis: Job.JobAnalysis) -> [String: FieldErrors] {
        var problems = Problems()
        problems.refuse("useRescaleLicense", if: analysis.useRescaleLicense, "Rescale-provided licenses")
        problems.refuse("flags", if: !analysis.flags.isEmptyValue, "job analysis flags")
        return problems.fields
    }

    private struct Problems {
        var fields: [String: FieldErrors] = [:]

        mutating func refuse(_ field: String, if asked: Bool, _ what: String) {
            if asked { self.fields[field] = .messages(["Simforge does not support \(what)."]) }
        }
    }
}
