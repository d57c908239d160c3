import Hummingbird
import SimforgeModels

// The wire models are plain Codable values (SimforgeModels imports no server framework);
// here they learn to be response bodies.
extension Page: ResponseGenerator, ResponseEncodable {}
extension Analysis: ResponseGenerator, ResponseEncodable {}
extension CoreType: ResponseGenerator, ResponseEncodable {}
extension APIRoot: ResponseGenerator, ResponseEncodable {}
extension AnalysisVersionEnvironment: ResponseGenerator, ResponseEncodable {}
extension File: ResponseGenerator, ResponseEncodable {}
extension JobStatus: ResponseGenerator, ResponseEncodable {}
