extension JobStatus: JSONWritable {
    public func write(to json: inout JSONWriter) {
        json.object { json in
            json.fieldIfPresent("jobId", self.jobId)
            json.key("status")
            json.string(self.status)
            json.key("statusDate")
            json.date(self.statusDate)
            json.field("statusReason", self.statusReason)
        }
    }
}
