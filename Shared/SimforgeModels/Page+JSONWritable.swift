extension Page: JSONWritable where Item: JSONWritable {
    public func write(to json: inout JSONWriter) {
        json.object { json in
            json.key("count")
            json.int(self.count)
            json.field("next", self.next)
            json.field("previous", self.previous)
            json.key("results")
            json.array(self.results) { json, item in item.write(to: &json) }
        }
    }
}
