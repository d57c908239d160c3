import SimforgeServer
import Testing

@Suite struct ShortIDTests {
    @Test func idsAreBase62OfTheRequestedLength() {
        for length in [6, 8, 22] {
            let id = ShortID.make(length: length)
            #expect(id.count == length)
            #expect(id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
            #expect(ShortID.isWellFormed(id))
        }
    }

    @Test func tenThousandIdsDoNotCollide() {
        let ids = (0..<10_000).map { _ in ShortID.make() }
        #expect(Set(ids).count == ids.count)
    }

    @Test func wellFormedRejectsOtherText() {
        #expect(!ShortID.isWellFormed("abc"))
        #expect(!ShortID.isWellFormed("abc-def"))
        #expect(!ShortID.isWellFormed("../../x"))
    }
}
